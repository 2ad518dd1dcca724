data "aws_region" "current" {}
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  functions = toset(["onconnect", "ondisconnect", "sendmessage"])

  managed_functions     = toset([for fn in local.functions : fn if var.compute[fn] == "managed"])
  provisioned_functions = toset([for fn in local.functions : fn if var.compute[fn] == "provisioned"])
  # Functions outside LMI are invoked through the alias "live": it carries the provisioned
  # concurrency (an unqualified invoke never uses it), and keeps provisioned <-> ondemand a
  # change of configuration, not of function.
  aliased_functions = toset([for fn in local.functions : fn if var.compute[fn] != "managed"])
  any_managed       = length(local.managed_functions) > 0

  # A function's name carries "-lmi" while it runs on Lambda Managed Instances: moving it in or
  # out of LMI replaces the function (AWS cannot add a capacity provider to a function), and a
  # different name lets create_before_destroy build the new one while the old still serves.
  function_names = { for fn in local.functions : fn => "${var.name_prefix}-${fn}${var.compute[fn] == "managed" ? "-lmi" : ""}" }
  # One log group per function, whatever its compute: a switch keeps the logs.
  log_group_names = { for fn in local.functions : fn => "/aws/lambda/${var.name_prefix}-${fn}" }

  region     = data.aws_region.current.region
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  table_name = var.create_table ? aws_dynamodb_table.connections[0].name : data.aws_dynamodb_table.existing[0].name
  table_arn  = var.create_table ? aws_dynamodb_table.connections[0].arn : data.aws_dynamodb_table.existing[0].arn

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
      var.compute[fn] == "managed" ? aws_lambda_function.this[fn].invoke_arn : aws_lambda_alias.live[fn].invoke_arn
    )
  }

  thresholds = var.alarm_thresholds
}
