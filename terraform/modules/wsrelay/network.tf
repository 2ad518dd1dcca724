# Optional DynamoDB gateway endpoint for the capacity provider's subnets: DynamoDB traffic then
# stays in the VPC (and off the NAT gateway). There is deliberately no execute-api interface
# endpoint: one with private DNS would capture execute-api.<region>.amazonaws.com for the whole
# VPC and break the posts to the (public) WebSocket API's @connections endpoint.

resource "aws_vpc_endpoint" "dynamodb" {
  count = var.dynamodb_vpc_endpoint == null ? 0 : 1

  vpc_id            = var.dynamodb_vpc_endpoint.vpc_id
  service_name      = "com.amazonaws.${local.region}.dynamodb"
  vpc_endpoint_type = "Gateway"
  route_table_ids   = var.dynamodb_vpc_endpoint.route_table_ids
  tags              = var.tags
}
