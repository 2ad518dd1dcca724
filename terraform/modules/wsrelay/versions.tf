terraform {
  # 1.9: validations that refer to other variables and locals (variables.tf).
  required_version = ">= 1.9"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # aws_lambda_capacity_provider appeared in 6.24.0, aws_lambda_function_scaling_config
      # later; the module is checked against the 6.69.1 schema.
      version = ">= 6.69"
    }
  }
}
