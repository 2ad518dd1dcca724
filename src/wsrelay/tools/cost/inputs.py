"""The inputs of the cost model: one dataclass, loaded from defaults, a TOML file and flags (in
that order of precedence), and validated with one-line reasons.

Every field is a TOML key of the same name and a flag ``--field-name``; `FIELDS` holds the help
text that `wsrelay cost --help` prints and docs/cost.md repeats with sources.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from wsrelay.cli.checks import UsageError

COMPUTE_MODES = ("provisioned", "managed", "ondemand")
FUNCTIONS = ("onconnect", "ondisconnect", "sendmessage")
MEMORY_GIB_PER_VCPU = (2, 4, 8)


@dataclass(frozen=True)
class Function:
    """One Lambda function of a deployment: compute mode, memory, provisioned concurrency."""

    compute: str
    memory_mb: int
    provisioned: int = 0


@dataclass(frozen=True)
class Inputs:
    """Everything `wsrelay cost` computes from (defaults documented in docs/cost.md)."""

    region: str = "us-east-1"
    mean_publishes_per_s: float = 20.0
    peak_publishes_per_s: float = 60.0
    # (minute, publishes/s) points of a day's profile; empty: mean rising to peak over an hour.
    profile: tuple[tuple[float, float], ...] = ()
    # (result bytes, weight): results over 31 KiB travel via S3 as a ~200-byte reference.
    result_sizes: tuple[tuple[int, float], ...] = ((200, 0.10), (1024, 0.40), (4096, 0.30), (16384, 0.20))
    invocations_per_publish: float = 4.0
    resend_fraction: float = 0.01
    connections: int = 120
    connection_lifetime_s: float = 7200.0
    legacy_sendmessage_memory_mb: int = 512
    legacy_other_memory_mb: int = 128
    legacy_sendmessage_provisioned: int = 5
    legacy_other_provisioned: int = 1
    instance_type: str = "c8g.large"
    instances: int = 0
    min_instances: int = 3
    min_environments: int = 3
    managed_memory_mb: int = 2048
    memory_gib_per_vcpu: int = 2
    per_environment_concurrency: int = 16
    reserved_vcpu: float = 0.0
    reserved_memory_mib: int = 0
    headroom: float = 0.3
    cpu_factor: float = 1.0
    io_wait_ms: float = 25.0
    cpu_ms_per_invocation: float | None = None
    rss_mib_per_process: float | None = None
    log_bytes_per_invocation: float | None = None
    platform_log_bytes: int = 300
    custom_metrics: int = 12
    savings_plan: float = 0.0
    lambda_savings_plan: float = 0.0
    nat_gateways: int = 3
    egress_gb_month: float | None = None
    post_overhead_bytes: int = 1500
    dynamodb_gateway_endpoint: bool = True
    item_overhead_bytes: int = 200
    # A deployment of your own, shown as the scenario "custom" beside the four standard ones.
    functions: dict[str, Function] = field(default_factory=dict)

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


FIELDS: dict[str, str] = {
    "region": "AWS region of the prices",
    "mean_publishes_per_s": "mean results published per second over the month",
    "peak_publishes_per_s": "daily peak of results published per second (sizing)",
    "profile": "MIN:RATE,... points of the traffic profile (publishes/s) for the 5-minute doubling check",
    "result_sizes": "BYTES:WEIGHT,... distribution of result sizes",
    "invocations_per_publish": "sendmessage invocations per result (subscribe, publish, ack, unsubscribe)",
    "resend_fraction": "fraction of publishes resent by the worker (ack later than 3 s)",
    "connections": "router and worker WebSocket connections open at once",
    "connection_lifetime_s": "seconds a connection lives (API Gateway closes them at 2 h)",
    "legacy_sendmessage_memory_mb": (
        "the legacy deployment's sendmessage memory (provisioned and on-demand scenarios)"
    ),
    "legacy_other_memory_mb": "the legacy deployment's onconnect/ondisconnect memory",
    "legacy_sendmessage_provisioned": "the legacy deployment's sendmessage provisioned concurrency",
    "legacy_other_provisioned": "the legacy deployment's onconnect/ondisconnect provisioned concurrency",
    "instance_type": "LMI instance type (C, M or R family, .large or bigger)",
    "instances": "LMI instances to price at least (0: as many as the sizing needs)",
    "min_instances": "instances a capacity provider always runs (AZ resiliency)",
    "min_environments": "execution environments per LMI function at least",
    "managed_memory_mb": "memory of an LMI function (>= 2048, a multiple of memory-gib-per-vcpu GiB)",
    "memory_gib_per_vcpu": "LMI execution_environment_memory_gib_per_vcpu: 2, 4 or 8",
    "per_environment_concurrency": "LMI per_execution_environment_max_concurrency (Python processes)",
    "reserved_vcpu": "vCPU per instance held back for the OS and runtime",
    "reserved_memory_mib": "MiB per instance held back for the OS and runtime",
    "headroom": "fraction of CPU and processes kept free at the peak",
    "cpu_factor": "handler CPU time on the target architecture / on the measuring machine",
    "io_wait_ms": "wall time per invocation spent waiting on DynamoDB and the posts",
    "cpu_ms_per_invocation": "handler CPU ms per invocation (default: measured.json)",
    "rss_mib_per_process": "resident MiB per handler process (default: measured.json)",
    "log_bytes_per_invocation": "bytes of the JSON log line per invocation (default: measured.json)",
    "platform_log_bytes": "bytes of Lambda's own log lines per invocation (start/report)",
    "custom_metrics": "EMF metrics published (one dimension set each)",
    "savings_plan": "Savings Plan discount on LMI instances (not on the management fee)",
    "lambda_savings_plan": "Compute Savings Plan discount on Lambda duration and provisioned concurrency",
    "nat_gateways": "NAT gateways in the LMI VPC (one per AZ for AZ resilience)",
    "egress_gb_month": "GB a month through the NAT gateways (default: computed from the traffic)",
    "post_overhead_bytes": "bytes of HTTPS request and response around each Management API post",
    "dynamodb_gateway_endpoint": "the LMI VPC has a DynamoDB gateway endpoint (true/false)",
    "item_overhead_bytes": "bytes of a DynamoDB item besides the result (key, sets, ttl)",
    "functions": "NAME=COMPUTE:MEMORY_MB[:PROVISIONED] (repeatable): a custom deployment",
}


def parse_pairs(text: str, name: str) -> tuple[tuple[float, float], ...]:
    """``A:B,C:D`` as ((A, B), (C, D)); `UsageError` naming `name` otherwise."""
    pairs = []
    for part in text.split(","):
        left, sep, right = part.partition(":")
        try:
            if not sep:
                raise ValueError
            pairs.append((float(left), float(right)))
        except ValueError:
            raise UsageError(f"{name}: expected X:Y[,X:Y...], got {text!r}") from None
    return tuple(pairs)


def parse_function(spec: str) -> tuple[str, Function]:
    """``sendmessage=managed:2048`` or ``onconnect=provisioned:128:1`` as (name, Function)."""
    name, _, rest = spec.partition("=")
    parts = rest.split(":")
    if name not in FUNCTIONS or len(parts) not in (2, 3):
        raise UsageError(
            f"functions: expected NAME=COMPUTE:MEMORY_MB[:PROVISIONED] with NAME one of "
            f"{', '.join(FUNCTIONS)}, got {spec!r}"
        )
    try:
        numbers = [int(p) for p in parts[1:]]
    except ValueError:
        raise UsageError(f"functions: memory and provisioned must be integers, got {spec!r}") from None
    return name, Function(parts[0], numbers[0], numbers[1] if len(numbers) == 2 else 0)


def _coerce(name: str, value: Any) -> Any:
    """A TOML value as the field's type; `UsageError` naming the key otherwise."""
    default = next(f for f in dataclasses.fields(Inputs) if f.name == name)
    if name in ("profile", "result_sizes"):
        if isinstance(value, str):
            pairs = parse_pairs(value, name)
        elif isinstance(value, list) and all(
            isinstance(p, list) and len(p) == 2 and all(_is_number(x) for x in p) for p in value
        ):
            pairs = tuple((float(a), float(b)) for a, b in value)
        else:
            raise UsageError(f"{name}: expected a list of [x, y] pairs of numbers")
        return tuple((int(a), b) for a, b in pairs) if name == "result_sizes" else pairs
    if name == "functions":
        if not isinstance(value, dict):
            raise UsageError("functions: expected a table of NAME = {compute, memory_mb, provisioned}")
        out = {}
        for fn, spec in value.items():
            if fn not in FUNCTIONS or not isinstance(spec, dict):
                raise UsageError(f"functions.{fn}: unknown function (one of {', '.join(FUNCTIONS)})")
            try:
                out[fn] = Function(**spec)
            except TypeError:
                raise UsageError(
                    f"functions.{fn}: expected keys compute, memory_mb and optionally provisioned"
                ) from None
            if not isinstance(out[fn].compute, str) or not all(
                isinstance(n, int) and not isinstance(n, bool)
                for n in (out[fn].memory_mb, out[fn].provisioned)
            ):
                raise UsageError(
                    f"functions.{fn}: compute must be a string, memory_mb and provisioned integers"
                )
        return out
    kind = type(default.default) if default.default is not None else float
    if kind is bool:
        if not isinstance(value, bool):
            raise UsageError(f"{name}: expected true or false, got {value!r}")
        return value
    if kind is str:
        if not isinstance(value, str):
            raise UsageError(f"{name}: expected a string, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise UsageError(f"{name}: expected a number, got {value!r}")
    if kind is int and value != int(value):
        raise UsageError(f"{name}: expected an integer, got {value!r}")
    return int(value) if kind is int else float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def from_mapping(values: dict[str, Any], base: Inputs | None = None) -> Inputs:
    """`base` (default: the defaults) with `values` (TOML or flags) applied and coerced."""
    known = {f.name for f in dataclasses.fields(Inputs)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise UsageError(f"unknown key {unknown[0]!r} (known: see wsrelay cost --help)")
    return dataclasses.replace(base or Inputs(), **{k: _coerce(k, v) for k, v in values.items()})


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise UsageError(message)


def validate(inputs: Inputs) -> Inputs:
    """`inputs` if the model can use them, else `UsageError` with the first reason."""
    i = inputs
    for name in ("mean_publishes_per_s", "peak_publishes_per_s", "io_wait_ms", "cpu_factor"):
        value = getattr(i, name)
        _check(math.isfinite(value) and value > 0, f"{name} must be a positive number, got {value}")
    _check(i.peak_publishes_per_s >= i.mean_publishes_per_s, "peak_publishes_per_s must be >= the mean")
    _check(bool(i.result_sizes), "result_sizes must not be empty")
    for size, weight in i.result_sizes:
        _check(0 < size <= 131072, f"result_sizes: {size} bytes is outside 1..131072 (API Gateway's limit)")
        _check(weight > 0, f"result_sizes: weight {weight} must be positive")
    times = [t for t, _ in i.profile]
    _check(times == sorted(times), "profile: minutes must increase")
    _check(all(r >= 0 for _, r in i.profile), "profile: rates must be >= 0")
    _check(i.invocations_per_publish >= 1, "invocations_per_publish must be >= 1")
    for name in ("resend_fraction", "headroom", "savings_plan", "lambda_savings_plan"):
        value = getattr(i, name)
        _check(0 <= value < 1, f"{name} must be in [0, 1), got {value}")
    _check(i.savings_plan <= 0.72, "savings_plan: EC2 Savings Plans discount at most 72%")
    _check(
        i.lambda_savings_plan <= 0.17,
        "lambda_savings_plan: Compute Savings Plans discount Lambda at most 17%",
    )
    _check(i.memory_gib_per_vcpu in MEMORY_GIB_PER_VCPU, "memory_gib_per_vcpu must be 2, 4 or 8")
    _check(
        i.managed_memory_mb >= 2048 and i.managed_memory_mb % (i.memory_gib_per_vcpu * 1024) == 0,
        f"managed_memory_mb must be >= 2048 and a multiple of {i.memory_gib_per_vcpu * 1024} "
        f"(memory_gib_per_vcpu {i.memory_gib_per_vcpu}), got {i.managed_memory_mb}",
    )
    _check(1 <= i.per_environment_concurrency <= 1600, "per_environment_concurrency must be 1..1600")
    for name in (
        "instances",
        "min_instances",
        "min_environments",
        "connections",
        "nat_gateways",
        "custom_metrics",
    ):
        _check(getattr(i, name) >= 0, f"{name} must be >= 0")
    _check(
        i.min_instances >= 1 and i.min_environments >= 1, "min_instances and min_environments must be >= 1"
    )
    for name in ("legacy_sendmessage_memory_mb", "legacy_other_memory_mb"):
        _check(128 <= getattr(i, name) <= 10240, f"{name} must be 128..10240 MB")
    for name, fn in i.functions.items():
        _check(
            fn.compute in COMPUTE_MODES,
            f"functions.{name}: compute must be one of {', '.join(COMPUTE_MODES)}",
        )
        if fn.compute == "managed":
            step = i.memory_gib_per_vcpu * 1024
            _check(
                fn.memory_mb >= 2048 and fn.memory_mb % step == 0,
                f"functions.{name}: a managed function needs >= 2048 MB, a multiple of {step} "
                f"(memory_gib_per_vcpu {i.memory_gib_per_vcpu}), got {fn.memory_mb}",
            )
        else:
            _check(128 <= fn.memory_mb <= 10240, f"functions.{name}: memory must be 128..10240 MB")
        _check(fn.provisioned >= 0, f"functions.{name}: provisioned must be >= 0")
    for name in (
        "cpu_ms_per_invocation",
        "rss_mib_per_process",
        "log_bytes_per_invocation",
        "egress_gb_month",
    ):
        value = getattr(i, name)
        _check(value is None or (math.isfinite(value) and value >= 0), f"{name} must be >= 0")
    return inputs
