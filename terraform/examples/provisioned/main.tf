# The code cutover (docs/runbook.md), and the rollback target: wsrelay on the legacy relay's
# compute (every function on provisioned concurrency, no capacity provider, no VPC) and on its
# table. The legacy names are set explicitly: the module's own default names derive from
# name_prefix (events-wsrelay-connections, events-wsrelay) and would create new ones.

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

variable "alarm_topic_arn" {
  type = string
}

variable "publisher_ack" {
  description = "router during the cutover (the legacy contract), stored afterwards (docs/runbook.md)."
  type        = string
  default     = "router"
}

variable "legacy_subscriptions" {
  description = "true while the legacy Node relay may still run or be rolled back to."
  type        = bool
  default     = true
}

module "wsrelay" {
  source = "../../modules/wsrelay"

  name_prefix  = "events"
  package_path = "${path.root}/../../../dist/wsrelay-lambda.zip"

  # provisioned_concurrency keeps its defaults, the legacy relay's: 1, 1 and 5 for sendmessage.
  functions = {
    onconnect    = { compute = "provisioned" }
    ondisconnect = { compute = "provisioned" }
    sendmessage  = { compute = "provisioned" }
  }

  # The legacy names, explicitly.
  create_table           = false
  table_name             = "events-connections"
  capacity_provider_name = "events-websocket"

  legacy_subscriptions = var.legacy_subscriptions
  publisher_ack        = var.publisher_ack

  alarm_actions = [var.alarm_topic_arn]
}

output "websocket_url" {
  value = module.wsrelay.websocket_url
}
