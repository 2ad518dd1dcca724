"""The relay's compute cost for the simulated duration, from its functions' usage and the prices
file of `wsrelay cost`: requests and duration (on demand), provisioned concurrency kept and used,
or LMI instances with the management fee and their egress (public IPv4 addresses or NAT
gateways). DynamoDB, API Gateway, logs and
metrics are the same in every run and left out (`wsrelay cost` prices them)."""

from __future__ import annotations

import math

from wsrelay.tools.prices import Prices
from wsrelay.tools.simulate.compute import Functions, LambdaFunction
from wsrelay.tools.simulate.managed import ManagedFunction
from wsrelay.tools.simulate.parameters import SimConfig

# ondisconnect: not simulated (it changes no outcome), billed as kept: 1 provisioned environment
# (the legacy deployment) or its own minimum environments on LMI.
DISCONNECT_PROVISIONED = 1
MIN_INSTANCES = 3  # LMI launches 3 instances by default (AZ resiliency)


def relay_cost(config: SimConfig, functions: Functions, prices: Prices, seconds: float) -> float:
    """USD the relay's compute costs over `seconds`."""
    usage = functions.usage
    cost = (usage.invocations - usage.throttles) * prices["lambda.request"] / 1e6
    hours = seconds / 3600
    if functions.mode == "managed":
        instance = prices.instance(config.instance_type)
        send = functions.sendmessage
        assert isinstance(send, ManagedFunction)
        mean_envs = usage.environment_seconds / seconds if seconds else 0.0
        envs = mean_envs + config.lmi_min_environments  # + ondisconnect's
        # an instance holds environments until its vCPUs or its memory run out, whichever first
        by_vcpu = envs * send.vcpu_per_env / instance.vcpu
        by_memory = envs * config.managed_memory_mb / (instance.memory_gib * 1024)
        instances = max(MIN_INSTANCES, math.ceil(max(by_vcpu, by_memory) - 1e-9))
        cost += instances * instance.usd_hour * hours * (1 + prices["lmi.management_fee"])
        if config.egress == "public":  # one public IPv4 address per instance
            cost += instances * prices["ipv4.hour"] * hours
        else:  # the NAT gateways' hours (their per-GB charge is left to `wsrelay cost`)
            cost += config.nat_gateways * prices["nat.hour"] * hours
        return cost
    kept_gb = 0.0
    for f in functions.all():
        assert isinstance(f, LambdaFunction)
        cost += f.usage.ondemand_gb_s * prices["lambda.arm.duration"]
        cost += f.usage.provisioned_used_gb_s * prices["lambda.arm.provisioned_duration"]
        kept_gb += f.provisioned * f.gb
    if functions.mode == "provisioned":
        kept_gb += DISCONNECT_PROVISIONED * config.connect_memory_mb / 1024
        cost += kept_gb * seconds * prices["lambda.arm.provisioned"]
    return cost
