"""The inputs of the cost model, declared once (`wsrelay.cli.options.setting`): every field of
`Inputs` is the flag ``--field-name`` and the TOML key ``field_name`` with its help, unit and
check; `Inputs.validate` holds the checks across fields. docs/cost.md repeats them with sources.

`CostRun` holds what is not a model input: the files read and the terminal rendering.
How `--profile`, `--result-sizes` and `--functions` are written: `wsrelay.tools.cost.values`.
Standard library, `wsrelay.cli` and `wsrelay.tools.checks` only: ``wsrelay cost --help`` reads it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wsrelay.cli.checks import UsageError
from wsrelay.cli.options import all_of, at_least, check_units, non_negative, positive, setting
from wsrelay.tools import checks
from wsrelay.tools.cost.values import (
    FUNCTIONS,
    CustomFunction,
    Function,
    check_function,
    check_profile,
    check_result_sizes,
    functions_from_toml,
    pairs_from_toml,
    parse_function,
    parse_pairs,
    parse_sizes,
    sizes_from_toml,
)

FORMATS = ("table", "markdown")
__all__ = ["FUNCTIONS", "CostRun", "CustomFunction", "Function", "Inputs"]


def _below_one(v: float) -> str | None:
    return None if 0 <= v < 1 else "must be a fraction from 0 to below 1"


def _up_to(high: float, why: str) -> Any:
    return lambda v: None if 0 <= v <= high else f"must be 0..{high:g} ({why})"


@dataclass(frozen=True)
class Inputs:
    """Everything `wsrelay cost` computes from (defaults documented in docs/cost.md)."""

    region: str = setting("us-east-1", "AWS region of the prices", check=checks.region)
    mean_publishes_per_s: float = setting(
        20.0, "mean results published per second over the month", unit="publishes/s", check=positive
    )
    peak_publishes_per_s: float = setting(
        60.0, "daily peak of results published per second (sizing)", unit="publishes/s", check=positive
    )
    profile: tuple[tuple[float, float], ...] = setting(
        (),
        "points of the day's traffic (minute, publishes/s) for the 5-minute doubling check",
        parse=parse_pairs,
        from_toml=pairs_from_toml,
        check=check_profile,
        metavar="MIN:RATE,...",
        shown_default="the mean rising to the peak over an hour",
    )
    result_sizes: tuple[tuple[int, float], ...] = setting(
        ((200, 0.10), (1024, 0.40), (4096, 0.30), (16384, 0.20)),
        "distribution of result sizes (bytes, weight); over 31 KiB travel via S3 as a reference",
        parse=parse_sizes,
        from_toml=sizes_from_toml,
        check=check_result_sizes,
        metavar="BYTES:WEIGHT,...",
        shown_default="200:0.1,1024:0.4,4096:0.3,16384:0.2",
    )
    invocations_per_publish: float = setting(
        4.0,
        "sendmessage invocations per result (subscribe, publish, ack, unsubscribe)",
        check=all_of(positive, at_least(1)),
    )
    resend_fraction: float = setting(
        0.01, "fraction of publishes resent by the worker (ack later than 3 s)", check=_below_one
    )
    connections: int = setting(120, "router and worker WebSocket connections open at once", check=at_least(0))
    connection_lifetime_s: float = setting(
        7200.0, "how long a connection lives (API Gateway closes them at 2 h)", unit="s", check=positive
    )
    legacy_sendmessage_memory_mb: int = setting(
        512,
        "the legacy deployment's sendmessage memory (provisioned and on-demand scenarios)",
        unit="MB",
        check=checks.lambda_memory_mb,
    )
    legacy_other_memory_mb: int = setting(
        128, "the legacy deployment's onconnect/ondisconnect memory", unit="MB", check=checks.lambda_memory_mb
    )
    legacy_sendmessage_provisioned: int = setting(
        5, "the legacy deployment's sendmessage provisioned concurrency", check=at_least(0)
    )
    legacy_other_provisioned: int = setting(
        1, "the legacy deployment's onconnect/ondisconnect provisioned concurrency", check=at_least(0)
    )
    instance_type: str = setting(
        "c8g.large", "LMI instance type (C, M or R family, .large or bigger, priced in the prices file)"
    )
    instances: int = setting(
        0, "LMI instances to price at least (0: as many as the sizing needs)", check=at_least(0)
    )
    min_instances: int = setting(
        3, "instances a capacity provider always runs (AZ resiliency)", check=at_least(1)
    )
    min_environments: int = setting(3, "execution environments per LMI function at least", check=at_least(1))
    managed_memory_mb: int = setting(
        2048,
        "memory of an LMI function (a multiple of --memory-gib-per-vcpu GiB)",
        unit="MB",
        check=checks.managed_memory_mb,
    )
    memory_gib_per_vcpu: int = setting(
        2, "LMI execution_environment_memory_gib_per_vcpu: 2, 4 or 8", check=checks.memory_gib_per_vcpu
    )
    per_environment_concurrency: int = setting(
        16,
        "LMI per_execution_environment_max_concurrency (Python processes)",
        check=checks.lmi_concurrency,
    )
    reserved_vcpu: float = setting(
        0.0, "vCPU per instance held back for the OS and runtime", check=non_negative, shown_default="0"
    )
    reserved_memory_mib: int = setting(
        0,
        "memory per instance held back for the OS and runtime",
        unit="MiB",
        check=at_least(0),
        shown_default="0",
    )
    headroom: float = setting(0.3, "fraction of CPU and processes kept free at the peak", check=_below_one)
    cpu_factor: float = setting(
        1.0, "handler CPU time on the target architecture / on the measuring machine", check=checks.cpu_factor
    )
    io_wait_ms: float = setting(
        25.0,
        "wall time per invocation spent waiting on DynamoDB and the posts",
        unit="ms",
        check=checks.io_wait_ms,
    )
    cpu_ms_per_invocation: float | None = setting(
        None, "handler CPU ms per invocation", check=non_negative, metavar="MS", shown_default="measured"
    )
    rss_mib_per_process: float | None = setting(
        None, "resident memory per handler process", unit="MiB", check=non_negative, shown_default="measured"
    )
    log_bytes_per_invocation: float | None = setting(
        None, "bytes of the JSON log line per invocation", check=non_negative, shown_default="measured"
    )
    platform_log_bytes: int = setting(
        300, "bytes of Lambda's own log lines per invocation (start/report)", check=at_least(0)
    )
    custom_metrics: int = setting(12, "EMF metrics published (one dimension set each)", check=at_least(0))
    savings_plan: float = setting(
        0.0,
        "Savings Plan discount on LMI instances, a fraction (not on the management fee)",
        shown_default="0",
        check=_up_to(0.72, "EC2 Savings Plans discount at most 72%"),
    )
    lambda_savings_plan: float = setting(
        0.0,
        "Compute Savings Plan discount on Lambda duration and provisioned concurrency, a fraction",
        shown_default="0",
        check=_up_to(0.17, "Compute Savings Plans discount Lambda at most 17%"),
    )
    nat_gateways: int = setting(3, "NAT gateways in the LMI VPC (one per AZ)", check=checks.nat_gateways)
    egress_gb_month: float | None = setting(
        None,
        "data through the NAT gateways",
        unit="GB/month",
        check=non_negative,
        shown_default="computed from the traffic",
    )
    post_overhead_bytes: int = setting(
        1500, "bytes of HTTPS request and response around each Management API post", check=at_least(0)
    )
    dynamodb_gateway_endpoint: bool = setting(True, "the LMI VPC has a DynamoDB gateway endpoint")
    item_overhead_bytes: int = setting(
        200, "bytes of a DynamoDB item besides the result (key, sets, ttl)", check=at_least(0)
    )
    functions: tuple[CustomFunction, ...] = setting(
        (),
        "a function of a custom deployment, shown as the scenario 'custom' (repeatable)",
        parse=parse_function,
        from_toml=functions_from_toml,
        repeatable=True,
        check=check_function,
        metavar="NAME=COMPUTE:MEMORY_MB[:PROVISIONED]",
    )

    def validate(self) -> Inputs:
        """The checks across fields (each field's own ran already): `UsageError`; self."""
        if self.peak_publishes_per_s < self.mean_publishes_per_s:
            raise UsageError(
                f"--peak-publishes-per-s {self.peak_publishes_per_s:g} must be at least "
                f"--mean-publishes-per-s {self.mean_publishes_per_s:g}"
            )
        problem = checks.managed_memory(self.managed_memory_mb, self.memory_gib_per_vcpu)
        if problem is not None:
            raise UsageError(f"--managed-memory-mb: {problem}")
        seen: set[str] = set()
        for f in self.functions:
            if f.name in seen:
                raise UsageError(f"--functions: {f.name} given twice")
            seen.add(f.name)
            if f.compute == "managed":
                problem = checks.managed_memory(f.memory_mb, self.memory_gib_per_vcpu)
                if problem is not None:
                    raise UsageError(f"--functions {f!r}: {problem}")
        return self

    @property
    def custom(self) -> dict[str, Function]:
        """The custom deployment's functions by name (empty: no custom scenario)."""
        return {f.name: f.function for f in self.functions}

    def as_dict(self) -> dict[str, Any]:
        """The inputs as JSON, shaped as the TOML file that gives them."""
        out = dataclasses.asdict(self)
        out["functions"] = {f.name: dataclasses.asdict(f.function) for f in self.functions}
        return out

    def with_traffic(self, mean: float) -> Inputs:
        """The same inputs at mean `mean` publishes/s, peak and profile scaled alike."""
        scale = mean / self.mean_publishes_per_s
        profile = tuple((t, r * scale) for t, r in self.profile)
        return dataclasses.replace(
            self,
            mean_publishes_per_s=mean,
            peak_publishes_per_s=self.peak_publishes_per_s * scale,
            profile=profile,
        )

    def day_profile(self) -> tuple[tuple[float, float], ...]:
        """The profile as given, or the mean rising linearly to the peak over an hour."""
        return self.profile or ((0.0, self.mean_publishes_per_s), (60.0, self.peak_publishes_per_s))


@dataclass(frozen=True)
class CostRun:
    """What `wsrelay cost` reads and how it renders, besides the model's inputs (flags only)."""

    format: str = setting("table", "how the terminal rendering looks", choices=FORMATS, toml=False)
    prices: Path | None = setting(  # noqa: RUF009 - a field()
        None, "prices file", toml=False, metavar="FILE", shown_default="the shipped tools/prices.toml"
    )
    measured: Path | None = setting(  # noqa: RUF009 - a field()
        None,
        "handler figures written by benchmarks/handler_cpu.py",
        toml=False,
        metavar="FILE",
        shown_default="the shipped tools/measured.json",
    )


check_units(Inputs)
