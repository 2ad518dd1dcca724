# Before the migration (and the rollback target): every function on provisioned concurrency,
# no capacity provider and no VPC. The same module; only `compute` differs.

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

variable "alarm_topic_arn" {
  type = string
}

module "wsrelay" {
  source = "../../modules/wsrelay"

  package_path = "${path.root}/../../../dist/wsrelay-lambda.zip"
  compute = {
    onconnect    = "provisioned"
    ondisconnect = "provisioned"
    sendmessage  = "provisioned"
  }
  provisioned_concurrency = { onconnect = 1, ondisconnect = 1, sendmessage = 5 }

  create_table    = false
  table_name      = "events-connections"
  alarm_topic_arn = var.alarm_topic_arn
}

output "websocket_url" {
  value = module.wsrelay.websocket_url
}
