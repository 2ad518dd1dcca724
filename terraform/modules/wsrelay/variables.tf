# The module's inputs. Every variable that becomes one of the functions' environment variables
# (lambda.tf) is validated with the bounds src/wsrelay/config.py enforces at init, so a value the
# functions would refuse fails `terraform plan` instead of every Lambda init
# (tests/test_terraform_contract.py applies each bound on both sides).

variable "name_prefix" {
  description = "Prefix of every name: functions <prefix>-onconnect, -ondisconnect, -sendmessage; API <prefix>-websocket; role, dashboard and alarms <prefix>-wsrelay-*; by default the table <prefix>-wsrelay-connections and the capacity provider <prefix>-wsrelay."
  type        = string

  validation {
    # 47: "<prefix>-ondisconnect-lmi" (a function name) and "<prefix>-wsrelay-function" (a role
    # name) must fit in 64 characters; the character set is what function names allow.
    condition     = can(regex("^[A-Za-z0-9_-]{1,47}$", var.name_prefix))
    error_message = "name_prefix must be 1-47 characters of A-Z a-z 0-9 _ - (the longest name, <prefix>-ondisconnect-lmi, must fit Lambda's 64)."
  }
}

variable "package_path" {
  description = "Path to dist/wsrelay-lambda.zip (built by `make package`)."
  type        = string
}

variable "functions" {
  description = <<-EOT
    Per function (keys onconnect, ondisconnect, sendmessage; each key and each field optional,
    unset fields keep their defaults):
    - compute: "managed" (Lambda Managed Instances, the default), "provisioned" (provisioned
      concurrency on the alias "live") or "ondemand". Moving a function to or from "managed"
      replaces it (a new function <prefix>-<fn>-lmi is created first, the integration switches,
      then the old one is destroyed); provisioned <-> ondemand only adds or removes the
      provisioned concurrency.
    - memory_mb: 2048 on LMI (a multiple of memory_gib_per_vcpu x 1024, 2048..32768), 512
      otherwise (128..10240).
    - provisioned_concurrency: where compute = "provisioned" (at least 1); default 1, 5 for
      sendmessage.
    - memory_gib_per_vcpu (2, 4 or 8; default 2), processes_per_environment (Python processes per
      execution environment, per_execution_environment_max_concurrency, 1..1600; default 16),
      min_environments (default 3, AWS's default) and max_environments (default 12, 24 for
      sendmessage; 0..15000): LMI only.
  EOT
  type = map(object({
    compute                   = optional(string)
    memory_mb                 = optional(number)
    provisioned_concurrency   = optional(number)
    memory_gib_per_vcpu       = optional(number)
    processes_per_environment = optional(number)
    min_environments          = optional(number)
    max_environments          = optional(number)
  }))
  default  = {}
  nullable = false

  validation {
    condition     = length(setsubtract(keys(var.functions), local.function_keys)) == 0
    error_message = "functions has unknown key(s) ${join(", ", sort(setsubtract(keys(var.functions), local.function_keys)))}: the keys are onconnect, ondisconnect and sendmessage."
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : f.compute == null || contains(["managed", "provisioned", "ondemand"], coalesce(f.compute, "managed"))])
    error_message = "functions.*.compute must be \"managed\", \"provisioned\" or \"ondemand\"."
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : f.memory_gib_per_vcpu == null || contains([2, 4, 8], coalesce(f.memory_gib_per_vcpu, 2))])
    error_message = "functions.*.memory_gib_per_vcpu must be 2, 4 or 8."
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : f.processes_per_environment == null || (floor(coalesce(f.processes_per_environment, 1)) == coalesce(f.processes_per_environment, 1) && coalesce(f.processes_per_environment, 1) >= 1 && coalesce(f.processes_per_environment, 1) <= 1600)])
    error_message = "functions.*.processes_per_environment (per_execution_environment_max_concurrency) must be a whole number 1..1600."
  }

  validation {
    condition = alltrue(flatten([for f in values(var.functions) : [
      for n in [f.min_environments, f.max_environments, f.provisioned_concurrency] : n == null || (floor(coalesce(n, 0)) == coalesce(n, 0) && coalesce(n, 0) >= 0 && coalesce(n, 0) <= 15000)
    ]]))
    error_message = "functions.*.min_environments, max_environments and provisioned_concurrency must be whole numbers 0..15000."
  }

  # The checks across fields see the defaults filled in. They cannot use local.function_settings
  # (which depends on this variable: a cycle), so they merge again over local.function_defaults.
  validation {
    condition = alltrue([
      for fn, f in var.functions : (
        coalesce(f.compute, local.function_defaults[fn].compute) == "managed"
        ? (
          coalesce(f.memory_mb, local.lmi_defaults.memory_mb) >= 2048 && coalesce(f.memory_mb, local.lmi_defaults.memory_mb) <= 32768
          && coalesce(f.memory_mb, local.lmi_defaults.memory_mb) % (coalesce(f.memory_gib_per_vcpu, local.lmi_defaults.memory_gib_per_vcpu) * 1024) == 0
        )
        : (
          floor(coalesce(f.memory_mb, local.function_defaults[fn].memory_mb)) == coalesce(f.memory_mb, local.function_defaults[fn].memory_mb)
          && coalesce(f.memory_mb, local.function_defaults[fn].memory_mb) >= 128 && coalesce(f.memory_mb, local.function_defaults[fn].memory_mb) <= 10240
        )
      ) if contains(local.function_keys, fn)
    ])
    error_message = "functions.*.memory_mb: on LMI (compute \"managed\") 2048..32768 and a multiple of memory_gib_per_vcpu x 1024 (2048 at 2 GiB per vCPU, 4096 at 4, 8192 at 8); otherwise a whole number 128..10240. With the defaults filled in: ${join("; ", [for fn, f in var.functions : "${fn} ${coalesce(f.compute, local.function_defaults[fn].compute)} ${coalesce(f.memory_mb, coalesce(f.compute, local.function_defaults[fn].compute) == "managed" ? local.lmi_defaults.memory_mb : local.function_defaults[fn].memory_mb)} MB at ${coalesce(f.memory_gib_per_vcpu, local.lmi_defaults.memory_gib_per_vcpu)} GiB per vCPU" if contains(local.function_keys, fn)])}."
  }

  validation {
    condition = alltrue([
      for fn, f in var.functions : (
        coalesce(f.min_environments, local.lmi_defaults.min_environments) <= coalesce(f.max_environments, local.function_defaults[fn].max_environments)
      ) if contains(local.function_keys, fn)
    ])
    error_message = "functions.*.min_environments must not exceed max_environments (defaults: 3 and 12, 24 for sendmessage). With the defaults filled in: ${join("; ", [for fn, f in var.functions : "${fn} ${coalesce(f.min_environments, local.lmi_defaults.min_environments)}..${coalesce(f.max_environments, local.function_defaults[fn].max_environments)}" if contains(local.function_keys, fn)])}."
  }

  validation {
    condition = alltrue([
      for fn, f in var.functions : (
        coalesce(f.compute, local.function_defaults[fn].compute) != "provisioned"
        || coalesce(f.provisioned_concurrency, local.function_defaults[fn].provisioned_concurrency) >= 1
      ) if contains(local.function_keys, fn)
    ])
    error_message = "functions.*.provisioned_concurrency must be at least 1 where compute is \"provisioned\" (use \"ondemand\" for none)."
  }
}

variable "function_timeout_seconds" {
  description = "Lambda timeout; API Gateway gives up after 29 s, so 30 is the useful maximum."
  type        = number
  default     = 30

  validation {
    condition     = floor(var.function_timeout_seconds) == var.function_timeout_seconds && var.function_timeout_seconds >= 1 && var.function_timeout_seconds <= 900
    error_message = "function_timeout_seconds must be a whole number 1..900."
  }
}

variable "result_ttl_seconds" {
  description = "RESULT_TTL_SECONDS: how long an unacked result (and its subscriptions) live; 1..604800 (7 days), at least 120 with publisher_ack = \"stored\" (the router waits 60 s, plus a reconnect)."
  type        = number
  default     = 600

  validation {
    condition     = floor(var.result_ttl_seconds) == var.result_ttl_seconds && var.result_ttl_seconds >= 1 && var.result_ttl_seconds <= 604800
    error_message = "result_ttl_seconds must be a whole number of seconds 1..604800 (RESULT_TTL_SECONDS, src/wsrelay/config.py)."
  }

  validation {
    condition     = var.publisher_ack != "stored" || var.result_ttl_seconds >= 120
    error_message = "result_ttl_seconds must be at least 120 with publisher_ack = \"stored\": the stored result is then the only copy while the router waits 60 s and reconnects."
  }
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
  nullable    = false
}

variable "log_retention_days" {
  description = "Retention of the function and access log groups."
  type        = number
  default     = 30
}

variable "metrics_namespace" {
  description = "WSRELAY_METRICS_NAMESPACE: namespace of wsrelay's EMF metrics (1-255 characters)."
  type        = string
  default     = "wsrelay"

  validation {
    condition     = length(var.metrics_namespace) >= 1 && length(var.metrics_namespace) <= 255
    error_message = "metrics_namespace must be 1-255 characters (WSRELAY_METRICS_NAMESPACE, src/wsrelay/config.py)."
  }
}

variable "service_name" {
  description = "WSRELAY_SERVICE: the value of the EMF `service` dimension the alarms match (1-255 characters)."
  type        = string
  default     = "wsrelay"

  validation {
    condition     = length(var.service_name) >= 1 && length(var.service_name) <= 255
    error_message = "service_name must be 1-255 characters (WSRELAY_SERVICE, src/wsrelay/config.py)."
  }
}

# -- capacity provider -------------------------------------------------------------------------

variable "capacity_provider_name" {
  description = "Name of the Lambda Managed Instances capacity provider (created only when some function is managed); null: <prefix>-wsrelay."
  type        = string
  default     = null

  validation {
    # 55: its operator role is "<name>-operator", and role names stop at 64.
    condition     = var.capacity_provider_name == null || can(regex("^[A-Za-z0-9_-]{1,55}$", coalesce(var.capacity_provider_name, "x")))
    error_message = "capacity_provider_name must be 1-55 characters of A-Z a-z 0-9 _ - (its operator role <name>-operator must fit IAM's 64)."
  }
}

variable "allowed_instance_types" {
  description = "Instance types the capacity provider may launch: C, M or R families (Graviton for arm64), .large or bigger. The first is the one `wsrelay cost` prices."
  type        = list(string)
  default     = ["c8g.large", "c7g.large", "m8g.large"]

  validation {
    condition = length(var.allowed_instance_types) > 0 && alltrue([
      for t in var.allowed_instance_types :
      can(regex("^[cmr][0-9]+[a-z]*\\.([0-9]*xlarge|large|metal(-[0-9]+xl)?)$", t))
    ])
    error_message = "Lambda Managed Instances run only on C, M and R instance families, size .large or bigger (e.g. c8g.large; c8g.medium is not eligible)."
  }
}

variable "max_vcpu_count" {
  description = "Upper bound of the capacity provider's vCPUs (2..15000); at the bound new invokes throttle."
  type        = number
  default     = 32

  validation {
    condition     = floor(var.max_vcpu_count) == var.max_vcpu_count && var.max_vcpu_count >= 2 && var.max_vcpu_count <= 15000
    error_message = "max_vcpu_count must be a whole number 2..15000."
  }
}

variable "capacity_provider_target_cpu" {
  description = "Target average CPU utilization (%) of the capacity provider's scaling policy; null keeps AWS's default."
  type        = number
  default     = null
}

variable "subnet_ids" {
  description = "Subnets of the capacity provider (1..16; mandatory when a function is managed). Every outbound call of a managed function leaves through them: see \"Networking\" in the README."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.subnet_ids) <= 16
    error_message = "A capacity provider takes at most 16 subnets."
  }

  validation {
    condition     = length(var.subnet_ids) > 0 || !local.any_managed
    error_message = "A managed function needs a capacity provider, whose VPC is mandatory: set subnet_ids (and security_group_ids)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the capacity provider's instances (1..5; allow outbound HTTPS, no inbound)."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = length(var.security_group_ids) <= 5
    error_message = "A capacity provider takes at most 5 security groups."
  }

  validation {
    condition     = length(var.security_group_ids) > 0 || !local.any_managed
    error_message = "A managed function needs security_group_ids for its capacity provider's instances (outbound HTTPS)."
  }
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
  description = "CONNECTIONS_TABLE: the connections table (hash key connectionId, TTL attribute ttl); null: <prefix>-wsrelay-connections. The legacy Node relay's is events-connections."
  type        = string
  default     = null

  validation {
    condition     = var.table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", coalesce(var.table_name, "xxx")))
    error_message = "table_name must be a DynamoDB table name: 3-255 of A-Z a-z 0-9 _ . - (CONNECTIONS_TABLE, src/wsrelay/config.py)."
  }
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

variable "throttling_rate_limit" {
  description = <<-EOT
    Stage default route steady rate (messages/s; every $connect and every client message counts).
    Default: 10 x Compiler Explorer's peak = 10 x 2.9 jobs/s (mean) x 3 (peak factor of
    `wsrelay cost`) x 5 frames per job = 435. A job is 4 routed frames (subscribe, publish, ack,
    unsubscribe; docs/protocol.md) plus 1 for the connections' own traffic (worker resends, idle
    pings, $connect/$disconnect: under 0.1 per job). The relay's posts to @connections are not
    routed and do not count.
  EOT
  type        = number
  default     = 435

  validation {
    condition     = var.throttling_rate_limit > 0
    error_message = "throttling_rate_limit must be positive (and at most the account's API Gateway limit, 10,000/s by default)."
  }
}

variable "throttling_burst_limit" {
  description = "Stage default route burst (token bucket size): one second of throttling_rate_limit at once, 435, far above the largest legitimate burst (every connection reconnecting and re-subscribing after API Gateway's 2-hour cut)."
  type        = number
  default     = 435

  validation {
    condition     = floor(var.throttling_burst_limit) == var.throttling_burst_limit && var.throttling_burst_limit >= 1
    error_message = "throttling_burst_limit must be a whole number of at least 1 (and at most the account's burst, 5,000 by default)."
  }
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

variable "create_alarms" {
  description = "Create the CloudWatch alarms (false: none; the dashboard stays)."
  type        = bool
  default     = true
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires (an SNS topic, typically); [] creates the alarms without actions."
  type        = list(string)
  default     = []
  nullable    = false
}

variable "ok_actions" {
  description = "ARNs notified when an alarm returns to OK; null: the same as alarm_actions."
  type        = list(string)
  default     = null
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
  default  = {}
  nullable = false
}

variable "tags" {
  description = "Tags for every resource that takes them."
  type        = map(string)
  default     = {}
  nullable    = false
}

# -- authorization -----------------------------------------------------------------------------
# The authorizer function's environment (authorization.tf) is validated with the bounds
# src/wsrelay/auth/settings.py enforces (tests/test_terraform_auth.py applies each on both sides).

variable "authorization" {
  description = "Who may open a connection ($connect): \"none\" (anyone who reaches the API), \"token\" (wsrelay's REQUEST authorizer verifies a JWT given as ?token=; its HS256 secret lives in Secrets Manager, output auth_secret_arn) or \"iam\" (the upgrade request is SigV4-signed; the caller's IAM policy must allow execute-api:Invoke on output connect_route_arn; roles are not enforced). See docs/security.md for the rollout."
  type        = string
  default     = "none"
  nullable    = false

  validation {
    condition     = contains(["none", "token", "iam"], var.authorization)
    error_message = "authorization must be \"none\", \"token\" or \"iam\"."
  }
}

variable "auth_mode" {
  description = "WSRELAY_AUTH_MODE of the token authorizer: \"enforce\" (a refused token gets 403, role violations are refused) or \"permissive\" (every connection with ?token= is allowed, what enforce would refuse is logged and counted): the rollout's middle step."
  type        = string
  default     = "enforce"
  nullable    = false

  validation {
    condition     = contains(["enforce", "permissive"], var.auth_mode)
    error_message = "auth_mode must be enforce or permissive (WSRELAY_AUTH_MODE, src/wsrelay/auth/settings.py)."
  }
}

variable "auth_leeway_seconds" {
  description = "WSRELAY_AUTH_LEEWAY_SECONDS: clock skew the token authorizer allows on a token's exp and nbf, 0..300."
  type        = number
  default     = 5
  nullable    = false

  validation {
    condition     = floor(var.auth_leeway_seconds) == var.auth_leeway_seconds && var.auth_leeway_seconds >= 0 && var.auth_leeway_seconds <= 300
    error_message = "auth_leeway_seconds must be a whole number 0..300 (WSRELAY_AUTH_LEEWAY_SECONDS, src/wsrelay/auth/settings.py)."
  }
}

variable "auth_secret_cache_seconds" {
  description = "WSRELAY_AUTH_SECRET_TTL_SECONDS: how long each authorizer process reuses what it read of the secret (AWSCURRENT and AWSPREVIOUS), 1..900. A rotation's new secret is accepted, and a removed AWSPREVIOUS refused, at most this long after the change."
  type        = number
  default     = 60
  nullable    = false

  validation {
    condition     = floor(var.auth_secret_cache_seconds) == var.auth_secret_cache_seconds && var.auth_secret_cache_seconds >= 1 && var.auth_secret_cache_seconds <= 900
    error_message = "auth_secret_cache_seconds must be a whole number 1..900 (WSRELAY_AUTH_SECRET_TTL_SECONDS, src/wsrelay/auth/settings.py)."
  }
}
