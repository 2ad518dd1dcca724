# The three functions from dist/wsrelay-lambda.zip, each on the compute var.functions gives it
# (merged over the defaults in compute.tf: local.function_settings).

resource "aws_cloudwatch_log_group" "function" {
  for_each = local.functions

  name              = local.log_group_names[each.key]
  retention_in_days = var.log_retention_days
  tags              = var.tags
  #checkov:skip=CKV_AWS_158:Function logs hold ids and outcomes, never results; CloudWatch's default encryption applies.
  #checkov:skip=CKV_AWS_338:Retention is a variable (30 days by default).
}

resource "aws_lambda_function" "this" {
  for_each = local.functions

  function_name    = local.function_names[each.key]
  description      = "wsrelay ${each.key} (${local.compute[each.key]})"
  role             = aws_iam_role.function.arn
  runtime          = "python3.13"
  architectures    = ["arm64"]
  handler          = "wsrelay.handlers.${each.key}"
  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)
  timeout          = var.function_timeout_seconds
  memory_size      = local.function_settings[each.key].memory_mb

  # Every apply that changes the code publishes a version: LMI needs a published function,
  # and the alias of the other modes points at the newest version. A capacity provider holds
  # at most 100 versions: prune them with `wsrelay prune-versions --keep N` (docs/runbook.md).
  publish    = true
  publish_to = local.compute[each.key] == "managed" ? "LATEST_PUBLISHED" : null

  dynamic "capacity_provider_config" {
    for_each = local.compute[each.key] == "managed" ? [local.function_settings[each.key]] : []
    content {
      lambda_managed_instances_capacity_provider_config {
        capacity_provider_arn                     = aws_lambda_capacity_provider.this[0].arn
        execution_environment_memory_gib_per_vcpu = capacity_provider_config.value.memory_gib_per_vcpu
        per_execution_environment_max_concurrency = capacity_provider_config.value.processes_per_environment
      }
    }
  }

  # Exactly the variables src/wsrelay/config.py reads that a function may set (checked by
  # tests/test_terraform_contract.py): AWS_REGION is Lambda's own, WSRELAY_SQLITE_PATH and
  # AWS_ENDPOINT_URL_DYNAMODB serve the local stack only. Each value is validated in variables.tf
  # with config.py's bounds.
  environment {
    variables = {
      CONNECTIONS_TABLE            = local.table_name
      RESULT_TTL_SECONDS           = tostring(var.result_ttl_seconds)
      WSRELAY_STORE                = "dynamodb"
      WSRELAY_MANAGEMENT_ENDPOINT  = local.management_endpoint
      WSRELAY_LEGACY_SUBSCRIPTIONS = tostring(var.legacy_subscriptions)
      WSRELAY_PUBLISHER_ACK        = var.publisher_ack
      WSRELAY_METRICS_NAMESPACE    = var.metrics_namespace
      WSRELAY_SERVICE              = var.service_name
    }
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.function[each.key].name
  }

  tracing_config {
    mode = "PassThrough"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }

  depends_on = [aws_iam_role_policy.function]

  #checkov:skip=CKV_AWS_117:On LMI the VPC belongs to the capacity provider (a function's own vpc_config conflicts with it); outside LMI the relay needs no VPC.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway; a dead-letter queue only applies to asynchronous invokes.
  #checkov:skip=CKV_AWS_173:The environment holds names and URLs, no secrets.
  #checkov:skip=CKV_AWS_272:Code signing is not used for this internal package; the zip is reproducible and its hash pinned by source_code_hash.
  #checkov:skip=CKV_AWS_115:Concurrency is bounded by the capacity provider (LMI) or provisioned concurrency; a reserved limit would throttle result delivery.
  #checkov:skip=CKV_AWS_50:X-Ray adds latency and cost to a sub-10 ms relay; EMF metrics and JSON logs cover it.
}

resource "aws_lambda_alias" "live" {
  for_each = local.aliased_functions

  name             = "live"
  function_name    = aws_lambda_function.this[each.key].function_name
  function_version = aws_lambda_function.this[each.key].version

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_lambda_provisioned_concurrency_config" "this" {
  for_each = local.provisioned_functions

  function_name                     = aws_lambda_function.this[each.key].function_name
  qualifier                         = aws_lambda_alias.live[each.key].name
  provisioned_concurrent_executions = local.function_settings[each.key].provisioned_concurrency
}

resource "aws_lambda_function_scaling_config" "this" {
  for_each = local.managed_functions

  function_name = aws_lambda_function.this[each.key].function_name
  qualifier     = "$LATEST.PUBLISHED"

  function_scaling_config {
    min_execution_environments = local.function_settings[each.key].min_environments
    max_execution_environments = local.function_settings[each.key].max_environments
  }
}
