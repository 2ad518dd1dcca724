# The migration plan's cost-critical variant (docs/runbook.md): only sendmessage (the hot path) on Lambda Managed Instances;
# onconnect and ondisconnect stay on provisioned concurrency.

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
  region = "us-east-1"
}

variable "subnet_ids" {
  type = list(string)
}

variable "security_group_ids" {
  type = list(string)
}

variable "alarm_topic_arn" {
  type = string
}

module "wsrelay" {
  source = "../../modules/wsrelay"

  package_path = "${path.root}/../../../dist/wsrelay-lambda.zip"
  compute = {
    onconnect    = "provisioned"
    ondisconnect = "provisioned"
    sendmessage  = "managed"
  }
  provisioned_concurrency = { onconnect = 1, ondisconnect = 1, sendmessage = 0 }

  create_table = false
  table_name   = "events-connections"

  subnet_ids             = var.subnet_ids
  security_group_ids     = var.security_group_ids
  allowed_instance_types = ["c8g.large"]
  max_vcpu_count         = 16

  alarm_topic_arn = var.alarm_topic_arn
}

output "websocket_url" {
  value = module.wsrelay.websocket_url
}
