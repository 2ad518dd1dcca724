# One dashboard with the alarmed metrics: delivery (wsrelay EMF), functions, LMI, API Gateway.

locals {
  emf = { for name in ["ResultsPublished", "ResultsDelivered", "ResultsWithoutSubscriber", "LateDeliveries", "AcksRouted", "AcksUnroutable", "AcksOnStore", "AcksWithheld", "DuplicatePublishes", "StaleConnectionsRemoved", "PostRetries", "PostFailures", "HandlerErrors"] :
    name => [var.metrics_namespace, name, "service", var.service_name]
  }

  dashboard_widgets = concat(
    [
      {
        type = "metric", width = 12, height = 6
        properties = {
          title   = "Results and acks (wsrelay)"
          region  = local.region
          stat    = "Sum"
          period  = 300
          metrics = [for name in ["ResultsPublished", "ResultsDelivered", "LateDeliveries", "AcksRouted", "AcksOnStore"] : local.emf[name]]
        }
      },
      {
        type = "metric", width = 12, height = 6
        properties = {
          title   = "Trouble (wsrelay)"
          region  = local.region
          stat    = "Sum"
          period  = 300
          metrics = [for name in ["ResultsWithoutSubscriber", "AcksUnroutable", "AcksWithheld", "DuplicatePublishes", "StaleConnectionsRemoved", "PostRetries", "PostFailures", "HandlerErrors"] : local.emf[name]]
        }
      },
      {
        type = "metric", width = 12, height = 6
        properties = {
          title   = "DeliveryLatency (ms)"
          region  = local.region
          period  = 300
          metrics = [for stat in ["p50", "p99"] : concat([var.metrics_namespace, "DeliveryLatency", "service", var.service_name], [{ stat = stat }])]
        }
      },
      {
        type = "metric", width = 12, height = 6
        properties = {
          title   = "Functions: errors and throttles"
          region  = local.region
          stat    = "Sum"
          period  = 300
          metrics = flatten([for fn in local.functions : [for m in ["Errors", "Throttles"] : [["AWS/Lambda", m, "FunctionName", local.function_names[fn]]]]])
        }
      },
      {
        type = "metric", width = 12, height = 6
        properties = {
          title   = "API Gateway"
          region  = local.region
          stat    = "Sum"
          period  = 60
          metrics = [for m in ["ConnectCount", "MessageCount", "IntegrationError", "ExecutionError", "ClientError"] : ["AWS/ApiGateway", m, "ApiId", aws_apigatewayv2_api.this.id, "Stage", var.stage_name]]
        }
      },
    ],
    local.any_managed ? [
      {
        type = "metric", width = 12, height = 6
        properties = {
          title   = "Capacity provider (LMI)"
          region  = local.region
          stat    = "Average"
          period  = 300
          metrics = flatten([for m in ["CPUUtilization", "MemoryUtilization"] : [for t in var.allowed_instance_types : [["AWS/Lambda", m, "CapacityProviderName", local.capacity_provider_name, "InstanceType", t]]]])
        }
      },
      {
        type = "metric", width = 12, height = 6
        properties = {
          title  = "LMI throttles and environment concurrency"
          region = local.region
          stat   = "Sum"
          period = 300
          metrics = flatten([for fn in local.managed_functions : concat(
            [for m in ["ConcurrencyThrottles", "CPUThrottles", "MemoryThrottles"] : ["AWS/Lambda", m, "FunctionName", local.function_names[fn]]],
            [for m in ["ExecutionEnvironmentConcurrency", "ExecutionEnvironmentConcurrencyLimit"] : ["AWS/Lambda", m, "CapacityProviderName", local.capacity_provider_name, "FunctionName", local.function_names[fn], "Resource", local.lmi_resource[fn], { stat = "Maximum" }]]
          )])
        }
      },
    ] : []
  )
}

resource "aws_cloudwatch_dashboard" "this" {
  dashboard_name = "${var.name_prefix}-wsrelay"
  dashboard_body = jsonencode({ widgets = local.dashboard_widgets })
}
