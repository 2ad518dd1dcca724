# API Gateway WebSocket API: $connect, $disconnect and $default, each an AWS_PROXY integration
# of its function. The stage auto-deploys, so every integration change (a compute switch
# included) is live without a manual deployment.

resource "aws_apigatewayv2_api" "this" {
  name                       = "${var.name_prefix}-websocket"
  protocol_type              = "WEBSOCKET"
  route_selection_expression = "$request.body.action"
  tags                       = var.tags
}

resource "aws_apigatewayv2_integration" "this" {
  for_each = local.functions

  api_id                    = aws_apigatewayv2_api.this.id
  integration_type          = "AWS_PROXY"
  integration_method        = "POST"
  integration_uri           = local.invoke_arns[each.key]
  content_handling_strategy = "CONVERT_TO_TEXT"
  timeout_milliseconds      = 29000
}

resource "aws_apigatewayv2_route" "this" {
  for_each = local.routes

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.this[each.value].id}"
  # var.authorization on $connect (CUSTOM: the token authorizer; AWS_IAM: SigV4), NONE elsewhere.
  authorization_type = local.route_authorization_types[each.key]
  authorizer_id      = each.key == "$connect" && local.token_authorization ? aws_apigatewayv2_authorizer.token[0].id : null
  #checkov:skip=CKV_AWS_309:WebSocket APIs authorize on $connect only ($disconnect and $default are NONE by design); $connect follows var.authorization, whose default "none" keeps the legacy relay's open access until the rollout (docs/security.md).
}

resource "aws_cloudwatch_log_group" "access" {
  name              = "/aws/apigateway/${var.name_prefix}-websocket/${var.stage_name}"
  retention_in_days = var.log_retention_days
  tags              = var.tags
  #checkov:skip=CKV_AWS_158:Access logs hold connection and request ids only; CloudWatch's default encryption applies.
  #checkov:skip=CKV_AWS_338:Retention is a variable (30 days by default); a year of access logs is not needed for this relay.
}

resource "aws_apigatewayv2_stage" "this" {
  #checkov:skip=CKV2_AWS_51:Client certificates authenticate API Gateway to HTTP backends; this stage's integrations are Lambda proxies.
  api_id      = aws_apigatewayv2_api.this.id
  name        = var.stage_name
  auto_deploy = true

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      connectionId       = "$context.connectionId"
      eventType          = "$context.eventType"
      routeKey           = "$context.routeKey"
      status             = "$context.status"
      integrationError   = "$context.integrationErrorMessage"
      integrationLatency = "$context.integrationLatency"
      error              = "$context.error.message"
      requestTime        = "$context.requestTimeEpoch"
      # Authorization ($connect): never the query string (it carries ?token=), nor the path with
      # it; only the outcome, the authorizer's principal and error (docs/security.md).
      authorizeStatus = "$context.authorize.status"
      authorizerError = "$context.authorizer.error"
      principalId     = "$context.authorizer.principalId"
    })
  }

  default_route_settings {
    detailed_metrics_enabled = true
    logging_level            = "ERROR"
    data_trace_enabled       = false
    throttling_burst_limit   = var.throttling_burst_limit
    throttling_rate_limit    = var.throttling_rate_limit
  }

  tags = var.tags
}

resource "aws_lambda_permission" "api" {
  for_each = local.functions

  statement_id  = "AllowApiGatewayInvoke"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this[each.key].function_name
  qualifier     = local.compute[each.key] == "managed" ? null : aws_lambda_alias.live[each.key].name
  principal     = "apigateway.amazonaws.com"
  source_arn    = "${aws_apigatewayv2_api.this.execution_arn}/*/*"

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_apigatewayv2_domain_name" "this" {
  count = var.custom_domain == null ? 0 : 1

  domain_name = var.custom_domain.domain_name

  domain_name_configuration {
    certificate_arn = var.custom_domain.certificate_arn
    endpoint_type   = "REGIONAL"
    security_policy = "TLS_1_2"
  }

  tags = var.tags
}

resource "aws_apigatewayv2_api_mapping" "this" {
  count = var.custom_domain == null ? 0 : 1

  api_id          = aws_apigatewayv2_api.this.id
  domain_name     = aws_apigatewayv2_domain_name.this[0].id
  stage           = aws_apigatewayv2_stage.this.id
  api_mapping_key = var.custom_domain.mapping_key
}
