"""The simulation's inputs, declared once (`wsrelay.cli.options.setting`): every field of
`SimConfig` is an assumption (docs/capacity.md gives their sources), the flag ``--field-name``
and the TOML key ``field_name`` with its help, unit and check; `SimConfig.validate` holds the
checks across fields. `SimRun` holds what is not an assumption: the scenario, the seed and the
files read.

Standard library, `wsrelay.cli` and `wsrelay.tools.checks` only: ``wsrelay simulate --help``
reads it without simpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wsrelay.cli.checks import UsageError
from wsrelay.cli.options import Check, at_least, check_units, flag_of, non_negative, positive, setting
from wsrelay.tools import checks

COMPUTE_MODES = ("ondemand", "provisioned", "managed")
RELAYS = ("legacy", "wsrelay")
DURATIONS_S = {"steady": 3600.0, "spike": 1800.0, "outage": 3600.0, "az-loss": 3600.0}
NAMES = tuple(DURATIONS_S)
_count = at_least(0)


def _utilization(v: float) -> str | None:
    return None if 0 < v <= 1 else "must be a fraction above 0, at most 1"


def _s(default: float, help: str, check: Check = non_negative) -> Any:
    """A duration in seconds (zero or more unless `check` says otherwise)."""
    return setting(default, help, unit="s", check=check)


@dataclass(frozen=True)
class SimConfig:
    """Assumptions of the simulation (defaults: docs/capacity.md)."""

    duration_s: float = setting(
        0.0,
        "simulated time (0: the scenario's own: 3600, spike 1800)",
        unit="s",
        check=non_negative,
        shown_default="0",
    )
    mean_jobs_per_s: float = setting(20.0, "mean compile jobs per second", unit="jobs/s", check=positive)
    peak_jobs_per_s: float = setting(60.0, "daily peak of jobs per second", unit="jobs/s", check=positive)
    spike_factor: float = setting(5.0, "spike scenario: multiple of the peak", check=at_least(1))
    spike_s: float = _s(120.0, "spike scenario: how long the spike lasts")
    compile_median_s: float = _s(1.5, "compile time, median (lognormal)", positive)
    compile_p99_s: float = _s(15.0, "compile time, 99th percentile", positive)
    routers: int = setting(8, "router processes (one WebSocket each)", check=at_least(1))
    subscribe_delay_s: float = _s(0.05, "router: wait between subscribe and enqueue")
    router_timeout_s: float = _s(60.0, "router: wait for the result before HTTP 408", positive)
    connection_max_s: float = _s(7200.0, "API Gateway closes every connection after this", positive)
    reconnect_delay_s: float = _s(5.0, "router: fixed delay between reconnect tries")
    reconnect_tries: int = setting(10, "router: tries before its health check fails", check=_count)
    resubscribe_window_s: float = _s(60.0, "router: after a reconnect, resubscribe guids younger than this")
    queue_retention_s: float = _s(345600.0, "queue: message retention")
    visibility_timeout_s: float = _s(30.0, "queue: visibility timeout of a received message")
    workers_min: int = setting(20, "compile workers, minimum", check=at_least(1))
    workers_max: int = setting(100, "compile workers, maximum", check=at_least(1))
    threads_per_worker: int = setting(4, "compile threads per worker", check=at_least(1))
    scale_out_jobs_per_worker: float = setting(
        2.0, "scale out when the queue holds more jobs per worker than this", check=non_negative
    )
    scale_delay_s: float = _s(180.0, "from the scaling decision to a working worker")
    scale_interval_s: float = _s(60.0, "between autoscaling decisions", positive)
    ack_timeout_s: float = _s(3.0, "worker: wait for the ack before resending", positive)
    ack_resends: int = setting(3, "worker: resends before giving up", check=_count)
    io_wait_ms: float = setting(
        20.0, "relay invocation: DynamoDB and post wait", unit="ms", check=checks.io_wait_ms
    )
    cpu_factor: float = setting(
        1.0, "relay invocation: measured handler CPU x this on the target", check=checks.cpu_factor
    )
    cold_start_s: float = _s(0.4, "on-demand relay: cold start")
    ondemand_concurrency: int = setting(
        1000, "on-demand relay: concurrency limit (throttles above)", check=_count
    )
    keep_warm_s: float = _s(600.0, "on-demand relay: idle time before an environment is reclaimed")
    provisioned: int = setting(
        5, "provisioned relay: warm environments (overflow cold, then throttled)", check=_count
    )
    function_memory_mb: int = setting(
        512,
        "on-demand/provisioned relay: function memory (CPU share)",
        unit="MB",
        check=checks.lambda_memory_mb,
    )
    lmi_min_environments: int = setting(3, "LMI relay: execution environments at least", check=at_least(1))
    lmi_concurrency: int = setting(
        16, "LMI relay: processes per execution environment", check=checks.lmi_concurrency
    )
    lmi_max_environments: int = setting(
        32, "LMI relay: execution environments at most (max vCPU)", check=at_least(1)
    )
    lmi_target_utilization: float = setting(
        0.7, "LMI relay: scale out above this utilization", check=_utilization
    )
    lmi_scale_interval_s: float = _s(60.0, "LMI relay: between scaling decisions", positive)
    lmi_scale_delay_s: float = _s(120.0, "LMI relay: until a new environment serves")
    managed_memory_mb: int = setting(
        2048,
        "LMI relay: function memory (a multiple of --memory-gib-per-vcpu GiB)",
        unit="MB",
        check=checks.managed_memory_mb,
    )
    memory_gib_per_vcpu: int = setting(
        2, "LMI relay: memory per vCPU: 2, 4 or 8", check=checks.memory_gib_per_vcpu
    )
    instance_type: str = setting(
        "c8g.large", "LMI relay: instance type (C, M or R family, .large or bigger, priced)"
    )
    nat_gateways: int = setting(3, "LMI relay: NAT gateways (cost)", check=checks.nat_gateways)
    legacy_lag_median_s: float = _s(0.02, "legacy relay: subscriber index lag, median (lognormal)", positive)
    legacy_lag_p99_s: float = _s(1.0, "legacy relay: subscriber index lag, 99th percentile", positive)
    legacy_ack_lag_median_s: float = _s(
        0.005, "legacy relay: lag of the eventually consistent sender read (ack), median", positive
    )
    legacy_ack_lag_p99_s: float = _s(
        0.05, "legacy relay: lag of the sender read (ack), 99th percentile", positive
    )
    frame_latency_ms: float = setting(
        15.0,
        "API Gateway: a frame to its invocation, and a post to its client",
        unit="ms",
        check=non_negative,
    )
    event_at_s: float = _s(1200.0, "outage/az-loss/spike: when the event starts")
    outage_s: float = _s(30.0, "outage: how long every relay invocation fails")
    az_loss_s: float = _s(600.0, "az-loss: how long a third of the relay's capacity is gone")
    sample_s: float = _s(10.0, "between samples of the time series", positive)
    region: str = setting("us-east-1", "AWS region of the prices (relay cost)", check=checks.region)

    def validate(self) -> SimConfig:
        """The checks across fields (each field's own ran already): `UsageError`; self."""
        pairs = (
            ("peak_jobs_per_s", "mean_jobs_per_s"),
            ("compile_p99_s", "compile_median_s"),
            ("legacy_lag_p99_s", "legacy_lag_median_s"),
            ("legacy_ack_lag_p99_s", "legacy_ack_lag_median_s"),
            ("workers_max", "workers_min"),
            ("lmi_max_environments", "lmi_min_environments"),
        )
        for high, low in pairs:
            above, below = getattr(self, high), getattr(self, low)
            if above < below:
                raise UsageError(f"{flag_of(high)} {above:g} must be at least {flag_of(low)} {below:g}")
        problem = checks.managed_memory(self.managed_memory_mb, self.memory_gib_per_vcpu)
        if problem is not None:
            raise UsageError(f"--managed-memory-mb: {problem}")
        if self.duration_s and self.duration_s < 10 * self.sample_s:
            raise UsageError(
                f"--duration-s {self.duration_s:g} must be at least 10 samples "
                f"(10 x --sample-s {self.sample_s:g}), or 0 for the scenario's own"
            )
        return self


@dataclass(frozen=True)
class SimRun:
    """What `wsrelay simulate` runs besides the assumptions (flags only, never TOML keys)."""

    scenario: str = setting(
        "",
        "steady: 1 h at the mean; spike: the peak, then x --spike-factor; outage: the relay fails "
        "for --outage-s; az-loss: a third of the relay's capacity gone for --az-loss-s",
        choices=NAMES,
        required=True,
        toml=False,
    )
    seed: int = setting(1, "seed of every random stream: a seed gives the same runs", toml=False, metavar="N")
    measured: Path | None = setting(  # noqa: RUF009 - a field()
        None,
        "handler figures written by benchmarks/handler_cpu.py",
        toml=False,
        metavar="FILE",
        shown_default="the shipped tools/measured.json",
    )
    prices: Path | None = setting(  # noqa: RUF009 - a field()
        None, "prices file", toml=False, metavar="FILE", shown_default="the shipped tools/prices.toml"
    )


check_units(SimConfig)
