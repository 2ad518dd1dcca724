# All three functions on Lambda Managed Instances (the end state of docs/runbook.md).
# Rollback: set compute_* to "provisioned" and apply (see the runbook).

terraform {
  required_version = ">= 1.6"
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
  description = "Private subnets with a NAT gateway (egress to the public execute-api endpoint)."
  type        = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "vpc_id" {
  type = string
}

variable "route_table_ids" {
  type = list(string)
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

  package_path = "${path.root}/../../../dist/wsrelay-lambda.zip"
  compute = {
    onconnect    = var.compute_onconnect
    ondisconnect = var.compute_ondisconnect
    sendmessage  = var.compute_sendmessage
  }

  # Adopt the legacy Node relay's table (and keep its SubscriptionIndex) during the cutover.
  create_table         = false
  table_name           = "events-connections"
  legacy_subscriptions = true

  subnet_ids             = var.subnet_ids
  security_group_ids     = var.security_group_ids
  allowed_instance_types = ["c8g.large", "c7g.large"]
  max_vcpu_count         = 32
  dynamodb_vpc_endpoint = {
    vpc_id          = var.vpc_id
    route_table_ids = var.route_table_ids
  }

  alarm_topic_arn = var.alarm_topic_arn
  tags            = { Site = "CompilerExplorer", Component = "wsrelay" }
}

output "websocket_url" {
  value = module.wsrelay.websocket_url
}

output "egress_requirements" {
  value = module.wsrelay.egress_requirements
}
