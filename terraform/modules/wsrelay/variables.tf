variable "name_prefix" {
  description = "Prefix of every name (functions are <prefix>-onconnect, -ondisconnect, -sendmessage)."
  type        = string
  default     = "events"
}

variable "package_path" {
  description = "Path to dist/wsrelay-lambda.zip (built by `make package`)."
  type        = string
}

variable "compute" {
  description = <<-EOT
    Per function: "managed" (Lambda Managed Instances), "provisioned" (provisioned concurrency on
    the alias "live") or "ondemand". Moving a function to or from "managed" replaces it (a new
    function named <prefix>-<fn>-lmi is created first, the integration switches, then the old one
    is destroyed); provisioned <-> ondemand only adds or removes the provisioned concurrency.
  EOT
  type        = map(string)
  default = {
    onconnect    = "managed"
    ondisconnect = "managed"
    sendmessage  = "managed"
  }

  validation {
    condition     = length(setsubtract(keys(var.compute), ["onconnect", "ondisconnect", "sendmessage"])) == 0 && length(var.compute) == 3
    error_message = "compute must have exactly the keys onconnect, ondisconnect and sendmessage."
  }

  validation {
    condition     = alltrue([for mode in values(var.compute) : contains(["managed", "provisioned", "ondemand"], mode)])
    error_message = "Each compute value must be \"managed\", \"provisioned\" or \"ondemand\"."
  }
}

variable "provisioned_concurrency" {
  description = "Provisioned concurrency per function, used where compute = \"provisioned\"."
  type        = map(number)
  default = {
    onconnect    = 1
    ondisconnect = 1
    sendmessage  = 5
  }
}

variable "memory_mb" {
  description = "Memory of functions that are not on Lambda Managed Instances."
  type        = number
  default     = 512
}

variable "managed" {
  description = <<-EOT
    Lambda Managed Instances settings per function. memory_mb must be a multiple of
    memory_gib_per_vcpu * 1024 and at least 2048; AWS advises 4 or 8 GiB per vCPU for Python
    (every process pays its own init). max_concurrency is the number of Python processes per
    execution environment (AWS default 16 per vCPU). min/max_environments go to
    aws_lambda_function_scaling_config.
  EOT
  type = map(object({
    memory_mb           = optional(number, 4096)
    memory_gib_per_vcpu = optional(number, 4)
    max_concurrency     = optional(number, 16)
    min_environments    = optional(number, 3)
    max_environments    = optional(number, 12)
  }))
  default = {
    onconnect    = {}
    ondisconnect = {}
    sendmessage  = { max_environments = 24 }
  }

  validation {
    condition     = alltrue([for m in values(var.managed) : contains([2, 4, 8], m.memory_gib_per_vcpu)])
    error_message = "memory_gib_per_vcpu must be 2, 4 or 8."
  }

  validation {
    condition     = alltrue([for m in values(var.managed) : m.memory_mb >= 2048 && m.memory_mb % (m.memory_gib_per_vcpu * 1024) == 0])
    error_message = "memory_mb must be at least 2048 and a multiple of memory_gib_per_vcpu * 1024."
  }

  validation {
    condition     = alltrue([for m in values(var.managed) : m.max_concurrency >= 1 && m.max_concurrency <= 1600])
    error_message = "max_concurrency (per_execution_environment_max_concurrency) must be 1..1600."
  }

  validation {
    condition     = alltrue([for m in values(var.managed) : m.min_environments >= 0 && m.max_environments >= m.min_environments])
    error_message = "min_environments must be >= 0 and <= max_environments."
  }
}

variable "function_timeout_seconds" {
  description = "Lambda timeout; API Gateway gives up after 29 s, so 30 is the useful maximum."
  type        = number
  default     = 30
}

variable "result_ttl_seconds" {
  description = "RESULT_TTL_SECONDS: how long an unacked result (and its subscriptions) live."
  type        = number
  default     = 600
}

variable "publisher_ack" {
  description = "WSRELAY_PUBLISHER_ACK: who acks a worker's publish, the relay once the result is stored (stored) or the router (router); see docs/protocol.md and docs/runbook.md."
  type        = string
  default     = "stored"

  validation {
    condition     = contains(["stored", "router"], var.publisher_ack)
    error_message = "publisher_ack must be stored or router."
  }
}

variable "legacy_subscriptions" {
  description = "WSRELAY_LEGACY_SUBSCRIPTIONS: also write the legacy Node relay's item shapes during the code cutover (see docs/runbook.md)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention of the function and access log groups."
  type        = number
  default     = 30
}

# -- capacity provider -------------------------------------------------------------------------

variable "capacity_provider_name" {
  description = "Name of the Lambda Managed Instances capacity provider (created only when some function is managed)."
  type        = string
  default     = "events-websocket"
}

variable "allowed_instance_types" {
  description = "Instance types the capacity provider may launch: C, M or R families (Graviton for arm64), .large or bigger."
  type        = list(string)
  default     = ["c8g.large", "c7g.large", "m8g.large"]

  validation {
    condition = alltrue([
      for t in var.allowed_instance_types :
      can(regex("^[cmr][0-9]+[a-z]*\\.([0-9]*xlarge|large|metal(-[0-9]+xl)?)$", t))
    ])
    error_message = "Lambda Managed Instances run only on C, M and R instance families, size .large or bigger (e.g. c8g.large; c8g.medium is not eligible)."
  }
}

variable "max_vcpu_count" {
  description = "Upper bound of the capacity provider's vCPUs; at the bound new invokes throttle."
  type        = number
  default     = 32
}

variable "capacity_provider_target_cpu" {
  description = "Target average CPU utilization (%) of the capacity provider's scaling policy; null keeps AWS's default."
  type        = number
  default     = null
}

variable "subnet_ids" {
  description = "Subnets of the capacity provider (mandatory when a function is managed). They need egress to DynamoDB, CloudWatch Logs and the public execute-api endpoint: a NAT gateway or VPC endpoints."
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the capacity provider's instances (allow outbound HTTPS)."
  type        = list(string)
  default     = []
}

variable "dynamodb_vpc_endpoint" {
  description = "Create a DynamoDB gateway VPC endpoint on these route tables (null: none)."
  type = object({
    vpc_id          = string
    route_table_ids = list(string)
  })
  default = null
}

# -- DynamoDB ----------------------------------------------------------------------------------

variable "table_name" {
  description = "The connections table (hash key connectionId, TTL attribute ttl)."
  type        = string
  default     = "events-connections"
}

variable "create_table" {
  description = "Create the table; false adopts an existing table of that name (the legacy Node relay's)."
  type        = bool
  default     = true
}

variable "table_point_in_time_recovery" {
  description = "Point-in-time recovery on a created table."
  type        = bool
  default     = true
}

variable "table_kms_key_arn" {
  description = "Customer managed KMS key for a created table (null: AWS owned key)."
  type        = string
  default     = null
}

variable "table_legacy_index" {
  description = "Create the legacy Node relay's GSI SubscriptionIndex on a created table (only for a cutover rehearsal)."
  type        = bool
  default     = false
}

# -- API Gateway -------------------------------------------------------------------------------

variable "stage_name" {
  description = "API Gateway stage."
  type        = string
  default     = "prod"
}

variable "throttling_burst_limit" {
  description = "Stage default route burst limit."
  type        = number
  default     = 2000
}

variable "throttling_rate_limit" {
  description = "Stage default route steady rate limit (requests/s)."
  type        = number
  default     = 1000
}

variable "custom_domain" {
  description = "Optional custom domain: name, ACM certificate ARN (same region) and API mapping key (base path)."
  type = object({
    domain_name     = string
    certificate_arn = string
    mapping_key     = optional(string)
  })
  default = null
}

# -- alarms ------------------------------------------------------------------------------------

variable "alarm_topic_arn" {
  description = "SNS topic that receives alarm and OK notifications."
  type        = string
}

variable "alarm_thresholds" {
  description = "Alarm thresholds."
  type = object({
    function_errors                  = optional(number, 5)
    function_throttles               = optional(number, 1)
    environment_concurrency_ratio    = optional(number, 0.8)
    capacity_cpu_percent             = optional(number, 80)
    capacity_memory_percent          = optional(number, 80)
    api_integration_errors           = optional(number, 5)
    post_failures                    = optional(number, 10)
    acks_unroutable                  = optional(number, 10)
    results_without_subscriber_ratio = optional(number, 0.2)
    delivery_latency_p99_ms          = optional(number, 2000)
  })
  default = {}
}

variable "metrics_namespace" {
  description = "WSRELAY_METRICS_NAMESPACE: namespace of wsrelay's EMF metrics."
  type        = string
  default     = "wsrelay"
}

variable "service_name" {
  description = "WSRELAY_SERVICE: the value of the EMF `service` dimension the alarms match."
  type        = string
  default     = "wsrelay"
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
}
