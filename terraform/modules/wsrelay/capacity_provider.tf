# The Lambda Managed Instances capacity provider, created only when some function is managed.
# Its VPC is mandatory and carries ALL of the functions' outbound traffic (DynamoDB, CloudWatch
# Logs, the execute-api @connections endpoint): see "Networking" in README.md.

resource "aws_iam_role" "capacity_operator" {
  count = local.any_managed ? 1 : 0

  name               = "${local.capacity_provider_name}-operator"
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "capacity_operator" {
  count = local.any_managed ? 1 : 0

  role       = aws_iam_role.capacity_operator[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AWSLambdaManagedEC2ResourceOperator"
}

resource "aws_lambda_capacity_provider" "this" {
  count = local.any_managed ? 1 : 0

  name = local.capacity_provider_name

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  permissions_config {
    capacity_provider_operator_role_arn = aws_iam_role.capacity_operator[0].arn
  }

  instance_requirements {
    architectures          = ["arm64"]
    allowed_instance_types = var.allowed_instance_types
  }

  capacity_provider_scaling_config {
    scaling_mode   = "Auto"
    max_vcpu_count = var.max_vcpu_count

    dynamic "scaling_policies" {
      for_each = var.capacity_provider_target_cpu == null ? [] : [var.capacity_provider_target_cpu]
      content {
        predefined_metric_type = "LambdaCapacityProviderAverageCPUUtilization"
        target_value           = scaling_policies.value
      }
    }
  }

  tags = var.tags
}
