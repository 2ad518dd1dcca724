# Which function runs on which compute, and what that makes of its name. Depends on variables
# only (no provider), so tests/test_terraform_evaluated.py evaluates this file for real with
# `terraform apply` in a provider-less root module.

locals {
  functions = toset(["onconnect", "ondisconnect", "sendmessage"])

  managed_functions     = toset([for fn in local.functions : fn if var.compute[fn] == "managed"])
  provisioned_functions = toset([for fn in local.functions : fn if var.compute[fn] == "provisioned"])
  # Functions outside LMI are invoked through the alias "live": it carries the provisioned
  # concurrency (an unqualified invoke never uses it), and keeps provisioned <-> ondemand a
  # change of configuration, not of function.
  aliased_functions = toset([for fn in local.functions : fn if var.compute[fn] != "managed"])
  any_managed       = length(local.managed_functions) > 0

  # A function's name carries "-lmi" while it runs on Lambda Managed Instances: moving it in or
  # out of LMI replaces the function (AWS cannot add a capacity provider to a function), and a
  # different name lets create_before_destroy build the new one while the old still serves.
  function_names = { for fn in local.functions : fn => "${var.name_prefix}-${fn}${var.compute[fn] == "managed" ? "-lmi" : ""}" }
  # One log group per function, whatever its compute: a switch keeps the logs.
  log_group_names = { for fn in local.functions : fn => "/aws/lambda/${var.name_prefix}-${fn}" }
}
