"""The monthly cost of each deployment scenario, split into the items AWS bills.

Scenarios: the legacy deployment (provisioned concurrency), all three functions on Lambda Managed
Instances, only ``sendmessage`` on LMI, everything on demand, and a custom deployment when the
inputs name one. Every scenario runs wsrelay's handlers and storage design: the traffic, DynamoDB,
logs and metrics are the same; compute, provisioned concurrency and the VPC's NAT differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from wsrelay.tools.cost.inputs import FUNCTIONS, Function, Inputs
from wsrelay.tools.cost.sizing import (
    ManagedSizing,
    Measured,
    doubling_warnings,
    instances_for,
    lambda_duration_s,
    size_managed,
)
from wsrelay.tools.prices import Instance, Prices, lmi_instance

ITEMS = (
    "instances",
    "management_fee",
    "requests",
    "duration",
    "provisioned_concurrency",
    "nat_egress",
    "dynamodb",
    "logs",
    "metrics",
)
KIB = 1024
GIB = 2**30  # AWS bills "GB" of data and logs in binary gigabytes
ACK_FRAME_BYTES = 100


@dataclass(frozen=True)
class Scenario:
    """A deployment: each function's compute mode, memory and provisioned concurrency."""

    name: str
    description: str
    functions: dict[str, Function]


@dataclass
class Result:
    """One scenario's monthly cost by item, with the sizing behind it."""

    name: str
    description: str
    items: dict[str, float]
    sizing: dict[str, object] = field(default_factory=dict)

    @property
    def total(self) -> float:
        """Sum of the items (USD a month)."""
        return sum(self.items.values())


def scenarios(inputs: Inputs) -> list[Scenario]:
    """The four standard scenarios, and "custom" when the inputs describe a deployment."""
    i = inputs
    legacy = {
        "sendmessage": Function(
            "provisioned", i.legacy_sendmessage_memory_mb, i.legacy_sendmessage_provisioned
        ),
        "onconnect": Function("provisioned", i.legacy_other_memory_mb, i.legacy_other_provisioned),
        "ondisconnect": Function("provisioned", i.legacy_other_memory_mb, i.legacy_other_provisioned),
    }
    managed = Function("managed", i.managed_memory_mb)
    out = [
        Scenario("legacy", "legacy: provisioned concurrency", legacy),
        Scenario("lmi-all", "all three functions on LMI", dict.fromkeys(FUNCTIONS, managed)),
        Scenario(
            "lmi-sendmessage",
            "sendmessage on LMI, the others as in the legacy deployment",
            {**legacy, "sendmessage": managed},
        ),
        Scenario(
            "ondemand",
            "all on demand (no provisioned concurrency)",
            {name: Function("ondemand", fn.memory_mb) for name, fn in legacy.items()},
        ),
    ]
    if i.functions:
        out.append(Scenario("custom", "the deployment given by --functions", {**legacy, **i.custom}))
    return out


def _item_bytes(size: int, inputs: Inputs) -> int:
    return size + inputs.item_overhead_bytes


def write_units_per_publish(inputs: Inputs) -> float:
    """Mean DynamoDB write units per result: an UpdateItem bills the larger of the item before
    and after, so publish, each resend and the ack (which removes the result) are billed by the
    result's size; subscribe (before the publish) and unsubscribe (after the ack) by 1 KB."""
    total_weight = sum(w for _, w in inputs.result_sizes)
    units = 0.0
    for size, weight in inputs.result_sizes:
        result_units = math.ceil(_item_bytes(size, inputs) / KIB)
        units += weight * (2 + (2 + inputs.resend_fraction) * result_units)
    return units / total_weight


def mean_result_bytes(inputs: Inputs) -> float:
    """Mean result size in bytes."""
    return sum(s * w for s, w in inputs.result_sizes) / sum(w for _, w in inputs.result_sizes)


def invocation_rates(inputs: Inputs, publishes_per_s: float) -> dict[str, float]:
    """Invocations per second of each function at a publish rate."""
    reconnects = inputs.connections / inputs.connection_lifetime_s
    return {
        "sendmessage": publishes_per_s * (inputs.invocations_per_publish + inputs.resend_fraction),
        "onconnect": reconnects,
        "ondisconnect": reconnects,
    }


def nat_bytes_per_s(inputs: Inputs, figures: Measured, managed: list[str], rates: dict[str, float]) -> float:
    """Bytes a second the LMI functions send or receive through the NAT gateways."""
    log_bytes = figures.log_bytes + inputs.platform_log_bytes
    total = sum(rates[name] * log_bytes for name in managed)
    if "sendmessage" in managed:
        publishes = rates["sendmessage"] / (inputs.invocations_per_publish + inputs.resend_fraction)
        result = mean_result_bytes(inputs)
        posts = result + ACK_FRAME_BYTES + 2 * inputs.post_overhead_bytes
        total += publishes * posts
        if not inputs.dynamodb_gateway_endpoint:
            ops = inputs.invocations_per_publish + inputs.resend_fraction
            total += publishes * ops * (result + inputs.item_overhead_bytes + inputs.post_overhead_bytes)
    return total


def check_instance(inputs: Inputs, prices: Prices, memory_mb: int) -> Instance:
    """The configured instance type if LMI runs it and it holds an environment of `memory_mb`;
    else `IneligibleInstance` with the reason and the cheapest eligible type (the rule
    `wsrelay simulate` applies too)."""
    return lmi_instance(
        prices,
        inputs.instance_type,
        memory_mb,
        inputs.memory_gib_per_vcpu,
        inputs.reserved_vcpu,
        inputs.reserved_memory_mib,
    )


def evaluate(inputs: Inputs, prices: Prices, figures: Measured, scenario: Scenario) -> Result:
    """The monthly cost of `scenario`."""
    seconds = prices.month_hours * 3600
    mean_rates = invocation_rates(inputs, inputs.mean_publishes_per_s)
    peak = max([inputs.peak_publishes_per_s, *(r for _, r in inputs.profile)])
    peak_rates = invocation_rates(inputs, peak)
    items = dict.fromkeys(ITEMS, 0.0)
    lsp = 1.0 - inputs.lambda_savings_plan
    sizings: list[ManagedSizing] = []
    managed: list[str] = []
    environments: dict[str, int] = {}
    for name, fn in scenario.functions.items():
        invocations = mean_rates[name] * seconds
        items["requests"] += invocations * prices["lambda.request"] / 1e6
        items["logs"] += (
            invocations * (figures.log_bytes + inputs.platform_log_bytes) / GIB * prices["logs.ingest_gb"]
        )
        if fn.compute == "managed":
            check_instance(inputs, prices, fn.memory_mb)
            sizing = size_managed(inputs, figures, fn.memory_mb, peak_rates[name])
            sizings.append(sizing)
            managed.append(name)
            environments[name] = sizing.environments
            continue
        gb = fn.memory_mb / 1024
        duration = lambda_duration_s(inputs, figures, fn.memory_mb)
        provisioned = fn.provisioned if fn.compute == "provisioned" else 0
        concurrency = mean_rates[name] * duration
        served = 1.0 if concurrency <= provisioned else provisioned / concurrency
        gb_s = invocations * duration * gb
        items["duration"] += (
            gb_s
            * lsp
            * (
                served * prices["lambda.arm.provisioned_duration"]
                + (1 - served) * prices["lambda.arm.duration"]
            )
        )
        items["provisioned_concurrency"] += (
            provisioned * gb * seconds * prices["lambda.arm.provisioned"] * lsp
        )
    sizing_out: dict[str, object] = {}
    if managed:
        instance = prices.instance(inputs.instance_type)
        count = instances_for(inputs, instance, sizings)
        on_demand = count * instance.usd_hour * prices.month_hours
        items["instances"] = on_demand * (1 - inputs.savings_plan)
        items["management_fee"] = on_demand * prices["lmi.management_fee"]
        if inputs.egress_gb_month is not None:
            gb_month = inputs.egress_gb_month
        else:
            gb_month = nat_bytes_per_s(inputs, figures, managed, mean_rates) * seconds / GIB
        items["nat_egress"] = (
            inputs.nat_gateways * prices["nat.hour"] * prices.month_hours + gb_month * prices["nat.gb"]
        )
        sizing_out = {
            "instance_type": instance.type,
            "instances": count,
            "environments": environments,
            "processes_per_environment": sizings[0].processes_per_environment,
            "limited_by": {name: s.limit for name, s in zip(managed, sizings, strict=True)},
            "nat_gb_month": round(gb_month, 3),
        }
    publishes = inputs.mean_publishes_per_s * seconds
    items["dynamodb"] = publishes * write_units_per_publish(inputs) * prices["dynamodb.wru"] / 1e6
    items["metrics"] = inputs.custom_metrics * prices["metrics.custom_month"]
    return Result(scenario.name, scenario.description, items, sizing_out)


def warnings(inputs: Inputs, figures: Measured) -> list[str]:
    """What the operator should know about these inputs (fast ramps, memory too small)."""
    out = doubling_warnings(inputs.day_profile())
    for name, fn in scenarios(inputs)[0].functions.items():
        if fn.memory_mb < figures.rss_mib * 1.25:
            out.append(
                f"{name} at {fn.memory_mb} MB: one handler process was measured at {figures.rss_mib:.0f} MiB "
                "resident; leave room for the runtime"
            )
    return out


def run_all(inputs: Inputs, prices: Prices, figures: Measured) -> list[Result]:
    """Every scenario's result, in order."""
    return [evaluate(inputs, prices, figures, s) for s in scenarios(inputs)]
