"""The monthly cost of each deployment scenario, split into the items AWS bills.

Scenarios: the legacy deployment (provisioned concurrency), all three functions on Lambda Managed
Instances, only ``sendmessage`` on LMI, everything on demand, and a custom deployment when the
inputs name one. Every scenario runs wsrelay's handlers and storage design: requests, DynamoDB,
the WebSocket API, logs and metrics are the same (`SHARED`); compute, provisioned concurrency and
the LMI VPC's egress differ.
"""

from __future__ import annotations

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
from wsrelay.tools.cost.usage import (
    invocation_rates,
    nat_bytes_per_s,
    websocket_units_per_job,
    write_units_per_job,
)
from wsrelay.tools.prices import Instance, Prices, lmi_instance

ITEMS = (
    "instances",
    "management_fee",
    "requests",
    "duration",
    "provisioned_concurrency",
    "egress",
    "dynamodb",
    "websocket_messages",
    "websocket_connection_minutes",
    "logs",
    "metrics",
)
# The items every scenario bills alike: the differences between scenarios are in the others.
SHARED = ("requests", "dynamodb", "websocket_messages", "websocket_connection_minutes", "logs", "metrics")
GIB = 2**30  # AWS bills "GB" of data and logs in binary gigabytes


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


def _lmi_items(
    inputs: Inputs,
    prices: Prices,
    figures: Measured,
    managed: list[str],
    sizings: list[ManagedSizing],
    rates: dict[str, float],
) -> tuple[dict[str, float], dict[str, object]]:
    """Instances, the management fee and egress of the LMI functions `managed`, and the sizing."""
    instance = prices.instance(inputs.instance_type)
    count = instances_for(inputs, instance, sizings)
    on_demand = count * instance.usd_hour * prices.month_hours
    items = {
        "instances": on_demand * (1 - inputs.savings_plan),
        "management_fee": on_demand * prices["lmi.management_fee"],
    }
    sizing: dict[str, object] = {
        "instance_type": instance.type,
        "instances": count,
        "environments": {name: s.environments for name, s in zip(managed, sizings, strict=True)},
        "processes_per_environment": sizings[0].processes_per_environment,
        "limited_by": {name: s.limit for name, s in zip(managed, sizings, strict=True)},
        "egress": inputs.egress,
    }
    if inputs.egress == "public":
        # One public IPv4 address per instance; traffic from a public subnet to AWS's public
        # endpoints in the same Region has no data charge (docs/aws-facts.md).
        items["egress"] = count * prices["ipv4.hour"] * prices.month_hours
        sizing["public_ipv4_addresses"] = count
        return items, sizing
    if inputs.egress_gb_month is not None:
        gb_month = inputs.egress_gb_month
    else:
        gb_month = nat_bytes_per_s(inputs, figures, managed, rates) * prices.month_hours * 3600 / GIB
    # No NAT gateway, no NAT charge at all: the traffic must then leave some other way.
    gb_billed = gb_month if inputs.nat_gateways > 0 else 0.0
    items["egress"] = (
        inputs.nat_gateways * prices["nat.hour"] * prices.month_hours + gb_billed * prices["nat.gb"]
    )
    sizing["nat_gateways"] = inputs.nat_gateways
    sizing["nat_gb_month"] = round(gb_billed, 3)
    return items, sizing


def evaluate(inputs: Inputs, prices: Prices, figures: Measured, scenario: Scenario) -> Result:
    """The monthly cost of `scenario`."""
    seconds = prices.month_hours * 3600
    mean_rates = invocation_rates(inputs, inputs.mean_jobs_per_s)
    peak_rates = invocation_rates(inputs, inputs.peak_jobs_per_s)
    items = dict.fromkeys(ITEMS, 0.0)
    lsp = 1.0 - inputs.lambda_savings_plan
    sizings: list[ManagedSizing] = []
    managed: list[str] = []
    for name, fn in scenario.functions.items():
        invocations = mean_rates[name] * seconds
        items["requests"] += invocations * prices["lambda.request"] / 1e6
        items["logs"] += (
            invocations * (figures.log_bytes + inputs.platform_log_bytes) / GIB * prices["logs.ingest_gb"]
        )
        if fn.compute == "managed":
            check_instance(inputs, prices, fn.memory_mb)
            minimum = inputs.min_environments_of(name)
            sizings.append(size_managed(inputs, figures, fn.memory_mb, peak_rates[name], minimum))
            managed.append(name)
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
    sizing: dict[str, object] = {}
    if managed:
        lmi, sizing = _lmi_items(inputs, prices, figures, managed, sizings, mean_rates)
        items.update(lmi)
    jobs = inputs.mean_jobs_per_s * seconds
    items["dynamodb"] = jobs * write_units_per_job(inputs) * prices["dynamodb.wru"] / 1e6
    items["websocket_messages"] = (
        jobs * websocket_units_per_job(inputs) * prices["apigateway.websocket.message"] / 1e6
    )
    connection_minutes = inputs.connections * prices.month_hours * 60
    items["websocket_connection_minutes"] = (
        connection_minutes * prices["apigateway.websocket.connection_minute"] / 1e6
    )
    items["metrics"] = inputs.custom_metrics * prices["metrics.custom_month"]
    return Result(scenario.name, scenario.description, items, sizing)


def warnings(inputs: Inputs, figures: Measured) -> list[str]:
    """What the operator should know about these inputs (fast ramps, memory too small)."""
    out = doubling_warnings(inputs.day_profile())
    for name, fn in scenarios(inputs)[0].functions.items():
        if fn.memory_mb < figures.rss_mib * 1.25:
            out.append(
                f"{name} at {fn.memory_mb} MB: one handler process was measured at {figures.rss_mib:.0f} MiB "
                "resident; leave room for the runtime"
            )
    # An LMI environment runs per_environment_concurrency processes, each paying its own init.
    need = inputs.per_environment_concurrency * figures.rss_mib
    if need * 1.25 > inputs.managed_memory_mb:
        out.append(
            f"LMI at {inputs.managed_memory_mb} MB: {inputs.per_environment_concurrency} processes of "
            f"{figures.rss_mib:.0f} MiB (measured) need {need:.0f} MiB; leave room for the runtime "
            "or lower --per-environment-concurrency"
        )
    if inputs.egress == "public" and inputs.egress_gb_month is not None:
        out.append("--egress-gb-month is the data through NAT gateways: --egress public does not bill it")
    return out


def run_all(inputs: Inputs, prices: Prices, figures: Measured) -> list[Result]:
    """Every scenario's result, in order."""
    return [evaluate(inputs, prices, figures, s) for s in scenarios(inputs)]
