output "websocket_url" {
  description = "What routers and workers connect to (the stage URL; a custom domain's if set)."
  value = var.custom_domain == null ? aws_apigatewayv2_stage.this.invoke_url : (
    "wss://${var.custom_domain.domain_name}/${coalesce(var.custom_domain.mapping_key, "")}"
  )
}

output "management_endpoint" {
  description = "The @connections endpoint the functions post to (WSRELAY_MANAGEMENT_ENDPOINT)."
  value       = local.management_endpoint
}

output "function_names" {
  description = "Function name per route handler (a \"-lmi\" suffix while on Lambda Managed Instances)."
  value       = local.function_names
}

output "compute" {
  description = "Compute per function, as applied."
  value       = var.compute
}

output "table_name" {
  description = "The connections table."
  value       = local.table_name
}

output "capacity_provider_arn" {
  description = "The LMI capacity provider (null when no function is managed)."
  value       = local.any_managed ? aws_lambda_capacity_provider.this[0].arn : null
}

output "dashboard_name" {
  description = "CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "egress_requirements" {
  description = "READ THIS before moving a function to LMI."
  value       = !local.any_managed ? "No function is on Lambda Managed Instances: no VPC egress is involved." : <<-EOT
    Managed functions send ALL their traffic through the capacity provider's subnets
    (${join(", ", var.subnet_ids)}). Those subnets must reach, over HTTPS:
      - DynamoDB             (NAT gateway, or the DynamoDB gateway endpoint: dynamodb_vpc_endpoint)
      - CloudWatch Logs      (NAT gateway, or a logs interface endpoint)
      - ${local.management_endpoint}
                             (the PUBLIC execute-api endpoint: NAT gateway. An execute-api interface
                              endpoint with private DNS enabled in this VPC captures that hostname and
                              breaks every post to @connections: results would never be delivered.)
    Without that egress, invocations time out and no result is relayed.
  EOT
}
