# -- API Gateway -------------------------------------------------------------------------------

output "api_id" {
  description = "Id of the WebSocket API (the ApiId dimension of its metrics)."
  value       = aws_apigatewayv2_api.this.id
}

output "api_endpoint" {
  description = "The API's own endpoint, wss://<api-id>.execute-api.<region>.amazonaws.com (without the stage)."
  value       = aws_apigatewayv2_api.this.api_endpoint
}

output "api_execution_arn" {
  description = "Execution ARN of the API, the prefix of IAM resources such as <arn>/<stage>/POST/@connections/*."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "websocket_url" {
  description = "What routers and workers connect to: the stage URL, or the custom domain's if set."
  value = var.custom_domain == null ? aws_apigatewayv2_stage.this.invoke_url : (
    "wss://${var.custom_domain.domain_name}/${coalesce(var.custom_domain.mapping_key, "")}"
  )
}

output "stage_name" {
  description = "The API Gateway stage."
  value       = aws_apigatewayv2_stage.this.name
}

output "connect_route_arn" {
  description = "The $connect route's ARN: the resource of execute-api:Invoke in the IAM policy of a router or worker when authorization = \"iam\"."
  value       = local.connect_route_arn
}

output "auth_secret_arn" {
  description = "The token authorizer's Secrets Manager secret (null unless authorization = \"token\"): put its value with aws secretsmanager put-secret-value, sign tokens with it (wsrelay token)."
  value       = local.auth_secret_arn
}

output "authorizer_id" {
  description = "Id of the $connect REQUEST authorizer (null unless authorization = \"token\")."
  value       = local.token_authorization ? aws_apigatewayv2_authorizer.token[0].id : null
}

output "authorizer_function_name" {
  description = "The token authorizer's function, on demand (null unless authorization = \"token\")."
  value       = local.token_authorization ? aws_lambda_function.authorizer[0].function_name : null
}

output "stage_arn" {
  description = "ARN of the stage."
  value       = aws_apigatewayv2_stage.this.arn
}

output "management_endpoint" {
  description = "The @connections endpoint the functions post to (WSRELAY_MANAGEMENT_ENDPOINT)."
  value       = local.management_endpoint
}

# -- functions ---------------------------------------------------------------------------------

output "functions" {
  description = "Settings per function as applied: var.functions merged over the defaults."
  value       = local.function_settings
}

output "function_names" {
  description = "Function name per route handler (a \"-lmi\" suffix while on Lambda Managed Instances)."
  value       = local.function_names
}

output "function_arns" {
  description = "Unqualified function ARN per route handler."
  value       = { for fn, f in aws_lambda_function.this : fn => f.arn }
}

output "function_versions" {
  description = "Latest published version per route handler (what $LATEST.PUBLISHED and the alias \"live\" run)."
  value       = { for fn, f in aws_lambda_function.this : fn => f.version }
}

output "alias_arns" {
  description = "ARN of the alias \"live\" per function outside LMI (the integration's target there); LMI functions have none."
  value       = { for fn, a in aws_lambda_alias.live : fn => a.arn }
}

output "function_log_group_names" {
  description = "Log group per route handler (the same across compute switches)."
  value       = local.log_group_names
}

output "function_role_arn" {
  description = "The functions' execution role."
  value       = aws_iam_role.function.arn
}

output "function_role_name" {
  description = "Name of the functions' execution role (to attach further policies)."
  value       = aws_iam_role.function.name
}

# -- capacity provider -------------------------------------------------------------------------

output "capacity_provider_arn" {
  description = "The LMI capacity provider (null when no function is managed)."
  value       = local.any_managed ? aws_lambda_capacity_provider.this[0].arn : null
}

output "capacity_provider_name" {
  description = "Name of the LMI capacity provider (null when no function is managed)."
  value       = local.any_managed ? aws_lambda_capacity_provider.this[0].name : null
}

output "capacity_provider_operator_role_arn" {
  description = "The role Lambda assumes to run the capacity provider's instances (null when no function is managed)."
  value       = local.any_managed ? aws_iam_role.capacity_operator[0].arn : null
}

output "dynamodb_vpc_endpoint_id" {
  description = "The DynamoDB gateway endpoint (null unless dynamodb_vpc_endpoint is set)."
  value       = var.dynamodb_vpc_endpoint == null ? null : aws_vpc_endpoint.dynamodb[0].id
}

# -- DynamoDB and monitoring -------------------------------------------------------------------

output "table_name" {
  description = "The connections table (CONNECTIONS_TABLE)."
  value       = local.table_name
}

output "table_arn" {
  description = "ARN of the connections table, created or adopted."
  value       = local.table_arn
}

output "access_log_group_name" {
  description = "The stage's access log group."
  value       = aws_cloudwatch_log_group.access.name
}

output "dashboard_name" {
  description = "CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "alarm_names" {
  description = "Every alarm the module created ([] with create_alarms = false)."
  value = concat(
    [for a in aws_cloudwatch_metric_alarm.function : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.environment_concurrency : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.capacity_provider : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.api : a.alarm_name],
    [for a in aws_cloudwatch_metric_alarm.wsrelay : a.alarm_name],
    aws_cloudwatch_metric_alarm.results_without_subscriber[*].alarm_name,
    aws_cloudwatch_metric_alarm.delivery_latency[*].alarm_name,
  )
}
