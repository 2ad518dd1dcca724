# The migration plan's cost-critical variant (docs/runbook.md): only sendmessage (the hot path)
# on Lambda Managed Instances; onconnect and ondisconnect stay on provisioned concurrency.

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
  region = "us-east-1"
}

variable "subnet_ids" {
  description = "The capacity provider's subnets: public subnets or private ones behind a NAT gateway (the module README, \"Networking\")."
  type        = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "alarm_topic_arn" {
  type = string
}

module "wsrelay" {
  source = "../../modules/wsrelay"

  name_prefix  = "events"
  package_path = "${path.root}/../../../dist/wsrelay-lambda.zip"

  # sendmessage keeps its default, "managed".
  functions = {
    onconnect    = { compute = "provisioned" }
    ondisconnect = { compute = "provisioned" }
  }

  # The legacy names, explicitly (the defaults derive from name_prefix).
  create_table           = false
  table_name             = "events-connections"
  capacity_provider_name = "events-websocket"

  subnet_ids             = var.subnet_ids
  security_group_ids     = var.security_group_ids
  allowed_instance_types = ["c8g.large"]
  max_vcpu_count         = 16

  alarm_actions = [var.alarm_topic_arn]
}

output "websocket_url" {
  value = module.wsrelay.websocket_url
}
