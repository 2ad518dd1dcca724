"""The inputs of the cost model, declared once (`wsrelay.cli.options.setting`): every field of
`Inputs` is the flag ``--field-name`` and the TOML key ``field_name`` with its help, unit and
check; `Inputs.validate` holds the checks across fields. Every default comes from
`wsrelay.tools.cost.defaults`; docs/cost.md repeats them with sources.

`CostRun` holds what is not a model input: the files read and the terminal rendering.
How `--profile`, `--result-sizes`, `--min-environments` and `--functions` are written:
`wsrelay.tools.cost.values`. Standard library, `wsrelay.cli`, `wsrelay.tools.checks` and the cost
package's plain modules only: ``wsrelay cost --help`` reads it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wsrelay.cli.checks import UsageError
from wsrelay.cli.options import all_of, at_least, check_units, non_negative, positive, setting
from wsrelay.tools import checks
from wsrelay.tools.cost import defaults as D
from wsrelay.tools.cost.values import (
    FUNCTIONS,
    CustomFunction,
    Function,
    PerFunction,
    at_least_one,
    below_one,
    check_function,
    check_min_environments,
    check_profile,
    check_result_sizes,
    functions_from_toml,
    pairs_from_toml,
    parse_function,
    parse_pairs,
    parse_sizes,
    per_function,
    sizes_from_toml,
    up_to,
)

FORMATS = ("table", "markdown")
EGRESS = ("nat", "public")
__all__ = ["EGRESS", "FUNCTIONS", "CostRun", "CustomFunction", "Function", "Inputs"]
_min_environments = per_function(D.LMI_MIN_ENVIRONMENTS)


@dataclass(frozen=True)
class Inputs:
    """Everything `wsrelay cost` computes from (defaults: `wsrelay.tools.cost.defaults`; their
    sources: docs/cost.md)."""

    region: str = setting(D.REGION, "AWS region of the prices", check=checks.region)
    mean_jobs_per_s: float = setting(
        D.MEAN_JOBS_PER_S,
        "mean jobs (results published) per second over the month; the default is Compiler "
        "Explorer's compilations, an upper bound for the relay",
        unit="jobs/s",
        check=positive,
    )
    peak_factor: float = setting(
        D.PEAK_FACTOR,
        "the daily peak of jobs/s over the mean (an assumption; sizes LMI environments)",
        check=at_least_one,
    )
    profile: tuple[tuple[float, float], ...] = setting(
        D.PROFILE,
        "points of the day's traffic (minute, jobs/s) for sizing and the 5-minute doubling check",
        parse=parse_pairs,
        from_toml=pairs_from_toml,
        check=check_profile,
        metavar="MIN:RATE,...",
        shown_default="the mean rising to the peak over an hour",
    )
    result_sizes: tuple[tuple[int, float], ...] = setting(
        D.RESULT_SIZES,
        "distribution of result sizes (bytes, weight); over 31 KiB travel via S3 as a reference",
        parse=parse_sizes,
        from_toml=sizes_from_toml,
        check=check_result_sizes,
        metavar="BYTES:WEIGHT,...",
        shown_default=",".join(f"{b}:{w:g}" for b, w in D.RESULT_SIZES),
    )
    invocations_per_job: float = setting(
        D.INVOCATIONS_PER_JOB,
        "sendmessage invocations per job (subscribe, publish, ack, unsubscribe)",
        check=all_of(positive, at_least(1)),
    )
    resend_fraction: float = setting(
        D.RESEND_FRACTION, "fraction of results resent by the worker (ack later than 3 s)", check=below_one
    )
    connections: int = setting(
        D.CONNECTIONS, "router and worker WebSocket connections open at once", check=at_least(0)
    )
    connection_lifetime_s: float = setting(
        D.CONNECTION_LIFETIME_S,
        "how long a connection lives (API Gateway closes them at 2 h)",
        unit="s",
        check=positive,
    )
    legacy_sendmessage_memory_mb: int = setting(
        D.LEGACY_SENDMESSAGE_MEMORY_MB,
        "the legacy deployment's sendmessage memory (provisioned and on-demand scenarios)",
        unit="MB",
        check=checks.lambda_memory_mb,
    )
    legacy_other_memory_mb: int = setting(
        D.LEGACY_OTHER_MEMORY_MB,
        "the legacy deployment's onconnect/ondisconnect memory",
        unit="MB",
        check=checks.lambda_memory_mb,
    )
    legacy_sendmessage_provisioned: int = setting(
        D.LEGACY_SENDMESSAGE_PROVISIONED,
        "the legacy deployment's sendmessage provisioned concurrency",
        check=at_least(0),
    )
    legacy_other_provisioned: int = setting(
        D.LEGACY_OTHER_PROVISIONED,
        "the legacy deployment's onconnect/ondisconnect provisioned concurrency",
        check=at_least(0),
    )
    instance_type: str = setting(
        D.LMI_INSTANCE_TYPE,
        "LMI instance type (C, M or R family, .large or bigger, priced in the prices file)",
    )
    instances: int = setting(
        D.INSTANCES, "LMI instances to price at least (0: as many as the placement needs)", check=at_least(0)
    )
    min_instances: int = setting(
        D.MIN_INSTANCES,
        "instances a capacity provider runs at least, one per AZ (AWS launches 3 for AZ "
        "resiliency); each function's environments are spread across those AZs",
        check=at_least(1),
    )
    min_environments: tuple[tuple[str, int], ...] = setting(
        PerFunction.every(D.LMI_MIN_ENVIRONMENTS),
        "LMI MinExecutionEnvironments per function, 0 and up (N for every function, or "
        "NAME=N,...; unnamed functions keep the default)",
        parse=_min_environments[0],
        from_toml=_min_environments[1],
        check=check_min_environments,
        metavar="N|NAME=N,...",
        shown_default=f"{D.LMI_MIN_ENVIRONMENTS} for each function, AWS's default",
    )
    managed_memory_mb: int = setting(
        D.LMI_MEMORY_MB,
        "memory of an LMI function (a multiple of --memory-gib-per-vcpu GiB)",
        unit="MB",
        check=checks.managed_memory_mb,
    )
    memory_gib_per_vcpu: int = setting(
        D.LMI_MEMORY_GIB_PER_VCPU,
        "LMI execution_environment_memory_gib_per_vcpu: 2, 4 or 8",
        check=checks.memory_gib_per_vcpu,
    )
    per_environment_concurrency: int = setting(
        D.LMI_PER_ENVIRONMENT_CONCURRENCY,
        "LMI per_execution_environment_max_concurrency (Python processes)",
        check=checks.lmi_concurrency,
    )
    reserved_vcpu: float = setting(
        D.RESERVED_VCPU,
        "vCPU per instance held back for the OS and runtime",
        check=non_negative,
        shown_default="0",
    )
    reserved_memory_mib: int = setting(
        D.RESERVED_MEMORY_MIB,
        "memory per instance held back for the OS and runtime",
        unit="MiB",
        check=at_least(0),
        shown_default="0",
    )
    headroom: float = setting(
        D.HEADROOM, "fraction of CPU and processes kept free at the peak", check=below_one
    )
    cpu_factor: float = setting(
        D.CPU_FACTOR,
        "handler CPU time on the target architecture / on the measuring machine",
        check=checks.cpu_factor,
    )
    io_wait_ms: float = setting(
        D.IO_WAIT_MS,
        "wall time per invocation spent waiting on DynamoDB and the posts",
        unit="ms",
        check=checks.io_wait_ms,
    )
    cpu_ms_per_invocation: float | None = setting(
        D.CPU_MS_PER_INVOCATION,
        "handler CPU ms per invocation",
        check=non_negative,
        metavar="MS",
        shown_default="measured",
    )
    rss_mib_per_process: float | None = setting(
        D.RSS_MIB_PER_PROCESS,
        "resident memory per handler process",
        unit="MiB",
        check=non_negative,
        shown_default="measured",
    )
    log_bytes_per_invocation: float | None = setting(
        D.LOG_BYTES_PER_INVOCATION,
        "bytes of the JSON log line per invocation",
        check=non_negative,
        shown_default="measured",
    )
    platform_log_bytes: int = setting(
        D.PLATFORM_LOG_BYTES,
        "bytes of Lambda's own log lines per invocation (start/report)",
        check=at_least(0),
    )
    custom_metrics: int = setting(
        D.CUSTOM_METRICS, "EMF metrics published (one dimension set each)", check=at_least(0)
    )
    savings_plan: float = setting(
        D.SAVINGS_PLAN,
        "Savings Plan discount on LMI instances, a fraction (not on the management fee)",
        shown_default="0",
        check=up_to(0.72, "EC2 Savings Plans discount at most 72%"),
    )
    lambda_savings_plan: float = setting(
        D.LAMBDA_SAVINGS_PLAN,
        "Compute Savings Plan discount on Lambda duration and provisioned concurrency, a fraction",
        shown_default="0",
        check=up_to(0.17, "Compute Savings Plans discount Lambda at most 17%"),
    )
    egress: str = setting(
        D.EGRESS,
        "how the LMI instances reach AWS's public endpoints: 'nat' (NAT gateways, hourly and per "
        "GB) or 'public' (a public IPv4 address per instance, as in Compiler Explorer's VPC)",
        choices=EGRESS,
    )
    nat_gateways: int = setting(
        D.NAT_GATEWAYS,
        "NAT gateways with --egress nat (one per AZ; 0: none billed)",
        check=checks.nat_gateways,
    )
    egress_gb_month: float | None = setting(
        D.EGRESS_GB_MONTH,
        "data through the NAT gateways",
        unit="GB/month",
        check=non_negative,
        shown_default="computed from the traffic",
    )
    post_overhead_bytes: int = setting(
        D.POST_OVERHEAD_BYTES,
        "bytes of HTTPS request and response around each Management API post",
        check=at_least(0),
    )
    dynamodb_gateway_endpoint: bool = setting(
        D.DYNAMODB_GATEWAY_ENDPOINT, "the LMI VPC has a DynamoDB gateway endpoint"
    )
    item_overhead_bytes: int = setting(
        D.ITEM_OVERHEAD_BYTES,
        "bytes of a DynamoDB item besides the result (key, sets, ttl)",
        check=at_least(0),
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
        """The inputs as one flat JSON object of TOML key -> value (what ``--config`` reads)."""
        out = dataclasses.asdict(self)
        out["min_environments"] = dict(self.min_environments)
        out["functions"] = {f.name: dataclasses.asdict(f.function) for f in self.functions}
        return out

    def min_environments_of(self, name: str) -> int:
        """MinExecutionEnvironments of function `name`."""
        return dict(self.min_environments)[name]

    @property
    def peak_jobs_per_s(self) -> float:
        """The peak the LMI functions are sized for: the mean x the peak factor, or the
        profile's highest point if that is higher."""
        return max([self.mean_jobs_per_s * self.peak_factor, *(r for _, r in self.profile)])

    def with_traffic(self, mean: float) -> Inputs:
        """The same inputs at mean `mean` jobs/s, the profile scaled alike (the peak factor
        holds)."""
        scale = mean / self.mean_jobs_per_s
        profile = tuple((t, r * scale) for t, r in self.profile)
        return dataclasses.replace(self, mean_jobs_per_s=mean, profile=profile)

    def day_profile(self) -> tuple[tuple[float, float], ...]:
        """The profile as given, or the mean rising linearly to the peak over an hour."""
        return self.profile or ((0.0, self.mean_jobs_per_s), (60.0, self.mean_jobs_per_s * self.peak_factor))


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
