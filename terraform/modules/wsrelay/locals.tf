data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  table_arn = var.create_table ? aws_dynamodb_table.connections[0].arn : data.aws_dynamodb_table.existing[0].arn

  # The stage's own execute-api URL: posts go there even when clients use a custom domain
  # (whose base path need not be the stage name).
  management_endpoint = "https://${aws_apigatewayv2_api.this.id}.execute-api.${local.region}.amazonaws.com/${aws_apigatewayv2_stage.this.name}"

  routes = {
    "$connect"    = "onconnect"
    "$disconnect" = "ondisconnect"
    "$default"    = "sendmessage"
  }

  # What an integration must invoke: LMI -> the function ($LATEST.PUBLISHED); otherwise the
  # alias that carries (or may carry) provisioned concurrency.
  invoke_arns = {
    for fn in local.functions : fn => (
      local.compute[fn] == "managed" ? aws_lambda_function.this[fn].invoke_arn : aws_lambda_alias.live[fn].invoke_arn
    )
  }

  thresholds = var.alarm_thresholds

  # The token authorizer's secret (authorization.tf); null unless var.authorization = "token".
  auth_secret_arn = local.token_authorization ? aws_secretsmanager_secret.auth[0].arn : null
  # What an IAM policy allows a router or worker to connect with (execute-api:Invoke).
  connect_route_arn = "${aws_apigatewayv2_api.this.execution_arn}/${var.stage_name}/$connect"
}
