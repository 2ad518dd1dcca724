# All three functions on Lambda Managed Instances (the end state of docs/runbook.md).
# A phase or a rollback is one variable: terraform apply -var compute_sendmessage=provisioned.

terraform {
  required_version = ">= 1.9"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.69"
    }
  }
}

provider "aws" {
  region = var.region
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "subnet_ids" {
  description = "The capacity provider's subnets: public subnets (Compiler Explorer's VPC) or private ones behind a NAT gateway; check the egress on the first deploy (the module README, \"Networking\")."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Outbound HTTPS, no inbound."
  type        = list(string)
}

variable "vpc_id" {
  type = string
}

variable "route_table_ids" {
  description = "Route tables of subnet_ids, for the DynamoDB gateway endpoint."
  type        = list(string)
}

variable "alarm_topic_arn" {
  type = string
}

variable "compute_onconnect" {
  type    = string
  default = "managed"
}

variable "compute_ondisconnect" {
  type    = string
  default = "managed"
}

variable "compute_sendmessage" {
  type    = string
  default = "managed"
}

module "wsrelay" {
  source = "../../modules/wsrelay"

  name_prefix  = "events"
  package_path = "${path.root}/../../../dist/wsrelay-lambda.zip"
  functions = {
    onconnect    = { compute = var.compute_onconnect }
    ondisconnect = { compute = var.compute_ondisconnect }
    sendmessage  = { compute = var.compute_sendmessage }
  }

  # The legacy names, explicitly: the legacy Node relay's table (keep its SubscriptionIndex
  # during the cutover), and the capacity provider's name from before names derived from
  # name_prefix (renaming it would replace every managed function).
  create_table           = false
  table_name             = "events-connections"
  capacity_provider_name = "events-websocket"
  legacy_subscriptions   = true

  subnet_ids             = var.subnet_ids
  security_group_ids     = var.security_group_ids
  allowed_instance_types = ["c8g.large", "c7g.large"]
  max_vcpu_count         = 32
  dynamodb_vpc_endpoint = {
    vpc_id          = var.vpc_id
    route_table_ids = var.route_table_ids
  }

  alarm_actions = [var.alarm_topic_arn]
  tags          = { Site = "CompilerExplorer", Component = "wsrelay" }
}

output "websocket_url" {
  value = module.wsrelay.websocket_url
}

output "function_arns" {
  value = module.wsrelay.function_arns
}

output "capacity_provider_arn" {
  value = module.wsrelay.capacity_provider_arn
}
