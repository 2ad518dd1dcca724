"""The relay's cost for the simulated duration, from the compute mode's usage and the prices
file of `wsrelay cost`: requests and duration (on demand), provisioned concurrency kept and used,
or LMI instances with the management fee and the NAT gateways. DynamoDB, logs and metrics are the
same in every run and left out (see `wsrelay cost`)."""

from __future__ import annotations

import math

from wsrelay.tools.prices import Prices
from wsrelay.tools.simulate.compute import Compute, LambdaCompute, ManagedCompute
from wsrelay.tools.simulate.parameters import SimConfig

# onconnect and ondisconnect beside sendmessage: 1 provisioned environment of 128 MB each
# (the legacy deployment), or their own minimum environments on LMI.
OTHER_FUNCTIONS = 2
OTHER_MEMORY_GB = 128 / 1024


def relay_cost(config: SimConfig, compute: Compute, prices: Prices, seconds: float) -> float:
    """USD the relay's compute cost over `seconds`."""
    usage = compute.usage
    billed = usage.invocations - usage.throttles
    cost = billed * prices["lambda.request"] / 1e6
    hours = seconds / 3600
    if isinstance(compute, ManagedCompute):
        instance = prices.instance(config.instance_type)
        mean_envs = usage.environment_seconds / seconds if seconds else 0.0
        envs = mean_envs + OTHER_FUNCTIONS * config.lmi_min_environments
        # an instance holds environments until its vCPUs or its memory run out, whichever first
        by_vcpu = envs * compute.vcpu_per_env / instance.vcpu
        by_memory = envs * config.managed_memory_mb / (instance.memory_gib * 1024)
        instances = max(3, math.ceil(max(by_vcpu, by_memory) - 1e-9))
        cost += instances * instance.usd_hour * hours * (1 + prices["lmi.management_fee"])
        cost += config.nat_gateways * prices["nat.hour"] * hours
        return cost
    assert isinstance(compute, LambdaCompute)
    cost += usage.ondemand_gb_s * prices["lambda.arm.duration"]
    cost += usage.provisioned_used_gb_s * prices["lambda.arm.provisioned_duration"]
    if compute.mode == "provisioned":
        kept_gb = config.provisioned * compute.gb + OTHER_FUNCTIONS * OTHER_MEMORY_GB
        cost += kept_gb * seconds * prices["lambda.arm.provisioned"]
    return cost
