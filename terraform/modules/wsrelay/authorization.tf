# $connect's authorization with var.authorization = "token": wsrelay's REQUEST authorizer
# (wsrelay.auth.handler, from the same package), its HS256 secret in Secrets Manager, and a role
# that reads only that secret. Its compute and names: compute.tf (local.authorizer). With "iam"
# the route alone changes (api.tf); with "none" nothing here exists.

resource "aws_secretsmanager_secret" "auth" {
  count = local.token_authorization ? 1 : 0

  name                    = local.authorizer.secret_name
  description             = "wsrelay $connect authorizer: the HS256 secret tokens are signed with (AWSCURRENT; AWSPREVIOUS during a rotation). Its value is put by the operator (docs/security.md), never by Terraform."
  recovery_window_in_days = 7
  tags                    = var.tags
  #checkov:skip=CKV2_AWS_57:Rotation is manual and staged (docs/security.md): every client's token must be reissued with the new secret before the previous one goes, which a rotation function cannot do.
  #checkov:skip=CKV_AWS_149:The AWS managed key aws/secretsmanager encrypts it; only the authorizer's role may read it, and a customer managed key would add a key policy to keep for one HMAC secret.
}

resource "aws_cloudwatch_log_group" "authorizer" {
  count = local.token_authorization ? 1 : 0

  name              = local.authorizer.log_group_name
  retention_in_days = var.log_retention_days
  tags              = var.tags
  #checkov:skip=CKV_AWS_158:The authorizer logs outcomes and reasons, never a token or the secret; CloudWatch's default encryption applies.
  #checkov:skip=CKV_AWS_338:Retention is a variable (30 days by default).
}

resource "aws_iam_role" "authorizer" {
  count = local.token_authorization ? 1 : 0

  name               = local.authorizer.role_name
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

# Least privilege: read this one secret (its AWSCURRENT and AWSPREVIOUS versions), write its own
# logs. Nothing of the relay: no table, no @connections.
data "aws_iam_policy_document" "authorizer" {
  count = local.token_authorization ? 1 : 0

  statement {
    sid       = "ReadItsSecretOnly"
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.auth[0].arn]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.authorizer[0].arn}:*"]
  }
}

resource "aws_iam_role_policy" "authorizer" {
  count = local.token_authorization ? 1 : 0

  name   = "wsrelay-authorizer"
  role   = aws_iam_role.authorizer[0].id
  policy = data.aws_iam_policy_document.authorizer[0].json
}

resource "aws_lambda_function" "authorizer" {
  count = local.token_authorization ? 1 : 0

  function_name    = local.authorizer.function_name
  description      = "wsrelay $connect authorizer (on demand, outside any VPC)"
  role             = aws_iam_role.authorizer[0].arn
  runtime          = "python3.13"
  architectures    = ["arm64"]
  handler          = local.authorizer.handler
  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)
  timeout          = local.authorizer.timeout_seconds
  memory_size      = local.authorizer.memory_mb

  # Exactly the variables src/wsrelay/auth/settings.py reads that a deployed authorizer may set,
  # and the metrics' namespace and service it shares with the relay (checked by
  # tests/test_terraform_auth.py); WSRELAY_AUTH_SECRET_FILE serves the local stack only.
  environment {
    variables = {
      WSRELAY_AUTH_SECRET_ARN         = local.auth_secret_arn
      WSRELAY_AUTH_SECRET_TTL_SECONDS = tostring(var.auth_secret_cache_seconds)
      WSRELAY_AUTH_MODE               = var.auth_mode
      WSRELAY_AUTH_LEEWAY_SECONDS     = tostring(var.auth_leeway_seconds)
      WSRELAY_METRICS_NAMESPACE       = var.metrics_namespace
      WSRELAY_SERVICE                 = var.service_name
    }
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.authorizer[0].name
  }

  tracing_config {
    mode = "PassThrough"
  }

  tags       = var.tags
  depends_on = [aws_iam_role_policy.authorizer]

  #checkov:skip=CKV_AWS_117:Outside any VPC on purpose: it runs once per connection and reaches Secrets Manager's public endpoint without a NAT gateway or an interface endpoint.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway; a dead-letter queue only applies to asynchronous invokes.
  #checkov:skip=CKV_AWS_173:The environment holds the secret's ARN and settings, never the secret, which stays in Secrets Manager.
  #checkov:skip=CKV_AWS_272:Code signing is not used for this internal package; the zip is reproducible and its hash pinned by source_code_hash.
  #checkov:skip=CKV_AWS_115:A reserved limit would refuse connections in a reconnect burst; API Gateway's stage throttling bounds the $connect rate.
  #checkov:skip=CKV_AWS_50:X-Ray adds latency and cost to every connect; the authorizer's JSON log line and EMF metrics cover it.
}

resource "aws_apigatewayv2_authorizer" "token" {
  count = local.token_authorization ? 1 : 0

  api_id          = aws_apigatewayv2_api.this.id
  name            = "${var.name_prefix}-wsrelay-token"
  authorizer_type = "REQUEST"
  authorizer_uri  = aws_lambda_function.authorizer[0].invoke_arn
  # API Gateway answers 401 itself, without invoking the function, when ?token= is missing.
  identity_sources = ["route.request.querystring.token"]
}

# API Gateway invokes the function with this resource-based permission (no authorizer
# credentials role), from this authorizer only.
resource "aws_lambda_permission" "authorizer" {
  count = local.token_authorization ? 1 : 0

  statement_id  = "AllowApiGatewayAuthorizer"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.authorizer[0].function_name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/authorizers/${aws_apigatewayv2_authorizer.token[0].id}"
}
