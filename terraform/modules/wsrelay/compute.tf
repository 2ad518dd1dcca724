# What each function runs on and with which settings, and the names every resource takes.
# Depends on variables only (no provider): tests/terraform_support.py evaluates this file with
# variables.tf for real, by `terraform apply` in a root module that uses no provider.

locals {
  function_keys = ["onconnect", "ondisconnect", "sendmessage"]
  functions     = toset(local.function_keys)

  # One set of LMI defaults for the module and `wsrelay cost` (src/wsrelay/tools/cost/defaults.py;
  # tests/test_terraform_contract.py fails when they differ). A handler process measured 49 MiB
  # resident (benchmarks/handler_cpu.py), so 16 processes use ~0.8 GiB of a 2 GiB environment;
  # 2 GiB per vCPU is also c8g.large's own ratio, so its two vCPUs fill with no memory stranded.
  lmi_defaults = {
    memory_mb                 = 2048
    memory_gib_per_vcpu       = 2
    processes_per_environment = 16
    min_environments          = 3
  }

  # What differs per function. memory_mb applies outside LMI (the legacy relay ran 512 MB for
  # sendmessage); on LMI the function takes lmi_defaults.memory_mb unless set.
  function_defaults = {
    onconnect    = { compute = "managed", memory_mb = 512, provisioned_concurrency = 1, max_environments = 12 }
    ondisconnect = { compute = "managed", memory_mb = 512, provisioned_concurrency = 1, max_environments = 12 }
    sendmessage  = { compute = "managed", memory_mb = 512, provisioned_concurrency = 5, max_environments = 24 }
  }

  # The caller's fields with their nulls dropped, so one field set on one function leaves every
  # other field (and every other function) at its default.
  function_overrides = {
    for fn in local.function_keys : fn => { for k, v in try(var.functions[fn], {}) : k => v if v != null }
  }
  function_settings = {
    for fn in local.function_keys : fn => merge(
      local.lmi_defaults,
      local.function_defaults[fn],
      {
        memory_mb = (
          lookup(local.function_overrides[fn], "compute", local.function_defaults[fn].compute) == "managed"
          ? local.lmi_defaults.memory_mb : local.function_defaults[fn].memory_mb
        )
      },
      local.function_overrides[fn],
    )
  }
  compute = { for fn in local.function_keys : fn => local.function_settings[fn].compute }

  managed_functions     = toset([for fn in local.function_keys : fn if local.compute[fn] == "managed"])
  provisioned_functions = toset([for fn in local.function_keys : fn if local.compute[fn] == "provisioned"])
  # Functions outside LMI are invoked through the alias "live": it carries the provisioned
  # concurrency (an unqualified invoke never uses it), and keeps provisioned <-> ondemand a
  # change of configuration, not of function.
  aliased_functions = toset([for fn in local.function_keys : fn if local.compute[fn] != "managed"])
  any_managed       = length(local.managed_functions) > 0

  # A function's name carries "-lmi" while it runs on Lambda Managed Instances: moving it in or
  # out of LMI replaces the function (AWS cannot add a capacity provider to a function), and a
  # different name lets create_before_destroy build the new one while the old still serves.
  function_names = { for fn in local.function_keys : fn => "${var.name_prefix}-${fn}${local.compute[fn] == "managed" ? "-lmi" : ""}" }
  # One log group per function, whatever its compute: a switch keeps the logs.
  log_group_names = { for fn in local.function_keys : fn => "/aws/lambda/${var.name_prefix}-${fn}" }

  # Names derive from name_prefix, so two stacks with different prefixes never collide; the
  # legacy names are reachable only by setting the variables.
  table_name             = coalesce(var.table_name, "${var.name_prefix}-wsrelay-connections")
  capacity_provider_name = coalesce(var.capacity_provider_name, "${var.name_prefix}-wsrelay")
}

# $connect's authorization (var.authorization), and the token authorizer's function: always on
# demand and outside any VPC. It runs once per connection (a few a minute, bursts when routers
# reconnect), so warm LMI capacity would cost more than its cold starts; outside the capacity
# provider's VPC it reaches Secrets Manager without a NAT or an endpoint. It is not a key of
# var.functions: nothing about its compute is a choice.
locals {
  token_authorization        = var.authorization == "token"
  connect_authorization_type = { none = "NONE", token = "CUSTOM", iam = "AWS_IAM" }[var.authorization]
  # API Gateway authorizes a WebSocket connection on $connect only: the other routes take NONE.
  route_authorization_types = {
    "$connect"    = local.connect_authorization_type
    "$disconnect" = "NONE"
    "$default"    = "NONE"
  }
  authorizer = {
    function_name  = "${var.name_prefix}-authorizer"
    role_name      = "${var.name_prefix}-wsrelay-auth"
    log_group_name = "/aws/lambda/${var.name_prefix}-authorizer"
    secret_name    = "${var.name_prefix}-wsrelay-auth"
    handler        = "wsrelay.auth.handler"
    memory_mb      = 256
    # One verification is well under a second; two Secrets Manager reads per cache refresh
    # (src/wsrelay/auth/secrets.py: 2 s connect + 3 s read, 2 attempts) bound the worst case.
    timeout_seconds = 15
  }
}
