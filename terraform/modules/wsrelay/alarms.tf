# Alarms, only on metrics that exist (docs/aws-facts.md lists them; LMI has no "unhealthy
# instances" metric). LMI metrics are published every 5 minutes, so every alarm on a managed
# function or on the capacity provider uses periods of 300 s. create_alarms = false creates none;
# alarm_actions = [] creates them without notifications (the dashboard and the console show them).

locals {
  alarm_actions = var.alarm_actions
  ok_actions    = var.ok_actions == null ? var.alarm_actions : var.ok_actions
  # Dimension "Resource" of LMI execution-environment metrics: the function and its qualifier.
  lmi_resource = { for fn in local.managed_functions : fn => "${local.function_names[fn]}:$LATEST.PUBLISHED" }

  # Per function: Errors and Throttles; on LMI also the throttle reasons.
  function_alarms = merge(concat(
    [for fn in local.functions : {
      "${fn}-Errors"    = { function = fn, metric = "Errors", threshold = local.thresholds.function_errors }
      "${fn}-Throttles" = { function = fn, metric = "Throttles", threshold = local.thresholds.function_throttles }
    }],
    [for fn in local.managed_functions : {
      for metric in ["ConcurrencyThrottles", "CPUThrottles", "MemoryThrottles"] :
      "${fn}-${metric}" => { function = fn, metric = metric, threshold = 1 }
    }],
  )...)

  wsrelay_alarms = merge(
    {
      PostFailures   = { threshold = local.thresholds.post_failures, description = "Posts to @connections failed after retries (403, 5xx, 413, network)." }
      AcksUnroutable = { threshold = local.thresholds.acks_unroutable, description = "Acks for guids with no stored publisher: results expired before the ack or acks for unknown guids." }
      HandlerErrors  = { threshold = 0, description = "Handler invocations that failed (DynamoDB errors, throttling after retries)." }
    },
    # Every connection is denied while the authorizer cannot read its secret.
    local.token_authorization ? {
      AuthorizerSecretUnavailable = { threshold = 0, description = "The $connect authorizer could not read its secret (no AWSCURRENT value, access denied, Secrets Manager unreachable): every new connection is denied." }
    } : {},
  )
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each = { for k, v in local.function_alarms : k => v if var.create_alarms }

  alarm_name          = "${local.function_names[each.value.function]}-${each.value.metric}"
  alarm_description   = "${each.value.metric} of ${local.function_names[each.value.function]}"
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = local.function_names[each.value.function] }
  statistic           = "Sum"
  period              = local.compute[each.value.function] == "managed" ? 300 : 60
  evaluation_periods  = local.compute[each.value.function] == "managed" ? 1 : 3
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "environment_concurrency" {
  for_each = toset([for fn in local.managed_functions : fn if var.create_alarms])

  alarm_name          = "${local.function_names[each.key]}-ExecutionEnvironmentConcurrency-near-limit"
  alarm_description   = "ExecutionEnvironmentConcurrency above ${local.thresholds.environment_concurrency_ratio * 100}% of ExecutionEnvironmentConcurrencyLimit"
  evaluation_periods  = 2
  threshold           = local.thresholds.environment_concurrency_ratio
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = var.tags

  metric_query {
    id          = "ratio"
    expression  = "used / limit"
    label       = "concurrency / limit"
    return_data = true
  }

  metric_query {
    id = "used"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "ExecutionEnvironmentConcurrency"
      period      = 300
      stat        = "Maximum"
      dimensions = {
        CapacityProviderName = local.capacity_provider_name
        FunctionName         = local.function_names[each.key]
        Resource             = local.lmi_resource[each.key]
      }
    }
  }

  metric_query {
    id = "limit"
    metric {
      namespace   = "AWS/Lambda"
      metric_name = "ExecutionEnvironmentConcurrencyLimit"
      period      = 300
      stat        = "Maximum"
      dimensions = {
        CapacityProviderName = local.capacity_provider_name
        FunctionName         = local.function_names[each.key]
        Resource             = local.lmi_resource[each.key]
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "capacity_provider" {
  # The capacity provider's metrics carry InstanceType: the alarm takes the highest over the
  # allowed types.
  for_each = {
    for metric, threshold in {
      CPUUtilization    = local.thresholds.capacity_cpu_percent
      MemoryUtilization = local.thresholds.capacity_memory_percent
    } : metric => threshold if var.create_alarms && local.any_managed
  }

  alarm_name          = "${local.capacity_provider_name}-${each.key}-high"
  alarm_description   = "${each.key} of capacity provider ${local.capacity_provider_name} above ${each.value}%"
  evaluation_periods  = 2
  threshold           = each.value
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = var.tags

  metric_query {
    id          = "highest"
    expression  = "MAX([${join(",", [for i, _ in var.allowed_instance_types : "m${i}"])}])"
    label       = "${each.key} (max over instance types)"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = var.allowed_instance_types
    content {
      id = "m${metric_query.key}"
      metric {
        namespace   = "AWS/Lambda"
        metric_name = each.key
        period      = 300
        stat        = "Average"
        dimensions = {
          CapacityProviderName = local.capacity_provider_name
          InstanceType         = metric_query.value
        }
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "api" {
  for_each = {
    for metric in ["IntegrationError", "ExecutionError"] : metric => local.thresholds.api_integration_errors if var.create_alarms
  }

  alarm_name          = "${var.name_prefix}-websocket-${each.key}"
  alarm_description   = "API Gateway ${each.key} on ${var.name_prefix}-websocket/${var.stage_name}"
  namespace           = "AWS/ApiGateway"
  metric_name         = each.key
  dimensions          = { ApiId = aws_apigatewayv2_api.this.id, Stage = var.stage_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 3
  threshold           = each.value
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "wsrelay" {
  for_each = { for k, v in local.wsrelay_alarms : k => v if var.create_alarms }

  alarm_name          = "${var.name_prefix}-wsrelay-${each.key}"
  alarm_description   = each.value.description
  namespace           = var.metrics_namespace
  metric_name         = each.key
  dimensions          = { service = var.service_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = each.value.threshold
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "results_without_subscriber" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name_prefix}-wsrelay-ResultsWithoutSubscriber-rate"
  alarm_description   = "More than ${local.thresholds.results_without_subscriber_ratio * 100}% of results published while nobody was subscribed (routers reconnecting or gone)."
  evaluation_periods  = 2
  threshold           = local.thresholds.results_without_subscriber_ratio
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = var.tags

  metric_query {
    id          = "rate"
    expression  = "IF(published > 0, orphaned / published, 0)"
    label       = "ResultsWithoutSubscriber / ResultsPublished"
    return_data = true
  }

  metric_query {
    id = "orphaned"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "ResultsWithoutSubscriber"
      period      = 300
      stat        = "Sum"
      dimensions  = { service = var.service_name }
    }
  }

  metric_query {
    id = "published"
    metric {
      namespace   = var.metrics_namespace
      metric_name = "ResultsPublished"
      period      = 300
      stat        = "Sum"
      dimensions  = { service = var.service_name }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "delivery_latency" {
  count = var.create_alarms ? 1 : 0

  alarm_name          = "${var.name_prefix}-wsrelay-DeliveryLatency-p99"
  alarm_description   = "p99 of publish-to-ack time above ${local.thresholds.delivery_latency_p99_ms} ms"
  namespace           = var.metrics_namespace
  metric_name         = "DeliveryLatency"
  dimensions          = { service = var.service_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 2
  threshold           = local.thresholds.delivery_latency_p99_ms
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.ok_actions
  tags                = var.tags
}
