"""The simulation's inputs, declared once (`wsrelay.cli.options.setting`): every field of
`SimConfig` is an assumption (docs/capacity.md gives their sources), the flag ``--field-name``
and the TOML key ``field_name`` with its help, unit and check; `SimConfig.validate` holds the
checks across fields. `SimRun` holds what is not an assumption: the scenario, the seeds and the
files read.

Standard library, `wsrelay.cli` and the tools' shared modules only: ``wsrelay simulate --help``
reads it without simpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wsrelay.cli.checks import UsageError
from wsrelay.cli.options import (
    Check,
    at_least,
    check_units,
    flag_of,
    fraction,
    non_negative,
    positive,
    setting,
)
from wsrelay.tools import checks, traffic

COMPUTE_MODES = ("ondemand", "provisioned", "managed")
# (relay, publisher_ack): the legacy Node relay acks through the router only
RELAYS = (("legacy", "router"), ("wsrelay", "router"), ("wsrelay", "stored"))
DURATIONS_S = {
    "steady": 3600.0,
    "spike": 1800.0,
    "outage": 3600.0,
    "az-loss": 3600.0,
    "throttle": 3600.0,
    "reconnect": 3600.0,
    "cold": 3600.0,
}
NAMES = tuple(DURATIONS_S)
EGRESS = ("nat", "public")  # as `wsrelay cost --egress` takes it
MIN_SAMPLES = 10  # a run shorter than this many samples has no time series worth plotting
_count = at_least(0)


def _utilization(v: float) -> str | None:
    return None if 0 < v <= 1 else "must be a fraction above 0, at most 1"


def _s(default: float, help: str, check: Check = non_negative) -> Any:
    """A duration in seconds (zero or more unless `check` says otherwise)."""
    return setting(default, help, unit="s", check=check)


@dataclass(frozen=True)
class SimConfig:
    """Assumptions of the simulation (defaults and sources: docs/capacity.md)."""

    duration_s: float = setting(
        0.0,
        "simulated time (0: the scenario's own: 3600, spike 1800)",
        unit="s",
        check=non_negative,
        shown_default="0",
    )
    # -- traffic (Compiler Explorer's, as `wsrelay cost` takes it: wsrelay.tools.traffic)
    mean_jobs_per_s: float = setting(
        traffic.MEAN_JOBS_PER_S, "mean compile jobs per second", unit="jobs/s", check=positive
    )
    peak_factor: float = setting(
        traffic.PEAK_FACTOR, "the daily peak of jobs/s over the mean (assumed)", check=at_least(1)
    )
    spike_factor: float = setting(5.0, "spike scenario: multiple of the peak", check=at_least(1))
    spike_s: float = _s(120.0, "spike scenario: how long the spike lasts")
    compile_median_s: float = _s(1.5, "compile time, median (lognormal)", positive)
    compile_p99_s: float = _s(15.0, "compile time, 99th percentile", positive)
    # -- routers (ce-router)
    routers: int = setting(8, "router processes (one WebSocket each)", check=at_least(1))
    subscribe_delay_s: float = _s(0.05, "router: wait between subscribe and enqueue")
    router_timeout_s: float = _s(60.0, "router: wait for the result before HTTP 408", positive)
    connection_max_s: float = _s(7200.0, "API Gateway closes every connection after this", positive)
    reconnect_delay_s: float = _s(5.0, "router: fixed delay between reconnect tries")
    reconnect_tries: int = setting(10, "router: tries before its health check fails", check=_count)
    resubscribe_window_s: float = _s(60.0, "router: after a reconnect, resubscribe guids younger than this")
    # -- the job queue (Compiler Explorer's SQS FIFO queue)
    queue_retention_s: float = _s(300.0, "queue: message retention")
    visibility_timeout_s: float = _s(60.0, "queue: visibility timeout of a received message")
    queue_dedup_s: float = _s(300.0, "queue: a job enqueued again within this is dropped (FIFO dedup)")
    # -- compile workers (compiler-explorer)
    workers_min: int = setting(20, "compile workers, minimum", check=at_least(1))
    workers_max: int = setting(100, "compile workers, maximum", check=at_least(1))
    threads_per_worker: int = setting(2, "compile threads (queue threads) per worker", check=at_least(1))
    scale_out_jobs_per_worker: float = setting(
        2.0, "scale out when the queue holds more jobs per worker than this", check=non_negative
    )
    scale_delay_s: float = _s(180.0, "from the scaling decision to a working worker")
    scale_interval_s: float = _s(60.0, "between autoscaling decisions", positive)
    ack_timeout_s: float = _s(3.0, "worker: wait for the ack before resending", positive)
    ack_resends: int = setting(3, "worker: resends before giving up", check=_count)
    worker_backoff_s: float = _s(1.0, "worker: first reconnect delay, doubled before each next try", positive)
    worker_reconnect_tries: int = setting(
        5, "worker: reconnect tries before it fails permanently (its health check fails)", check=at_least(1)
    )
    worker_replace_s: float = _s(300.0, "a worker whose health check failed is replaced after this")
    # -- the relay's functions
    result_ttl_s: float = _s(600.0, "wsrelay: RESULT_TTL_SECONDS, a stored result's lifetime", positive)
    io_wait_ms: float = setting(
        20.0, "relay invocation: DynamoDB and post wait", unit="ms", check=checks.io_wait_ms
    )
    cpu_factor: float = setting(
        1.0, "relay invocation: measured handler CPU x this on the target", check=checks.cpu_factor
    )
    cold_start_median_s: float = _s(0.4, "on-demand relay: cold start, median (lognormal)", positive)
    cold_start_p99_s: float = _s(4.0, "on-demand relay: cold start, 99th percentile (assumed)", positive)
    keep_warm_s: float = _s(600.0, "on-demand relay: idle time before an environment is reclaimed")
    account_concurrency: int = setting(
        1000, "Lambda: the account's concurrency, shared by all its functions", check=_count
    )
    ondemand_share: float = setting(
        0.003,
        "throttle scenario: share of the account's concurrency left to the relay while the "
        "account's other functions burst",
        check=fraction,
    )
    reserved_concurrency: int = setting(
        0,
        "on-demand/provisioned relay: concurrency reserved for each function (0: none, they share "
        "the account's unreserved concurrency); also each function's ceiling",
        check=_count,
    )
    provisioned: int = setting(
        5, "provisioned relay: sendmessage's warm environments (overflow on demand)", check=_count
    )
    connect_provisioned: int = setting(
        1, "provisioned relay: onconnect's warm environments (overflow on demand)", check=_count
    )
    function_memory_mb: int = setting(
        512,
        "on-demand/provisioned relay: sendmessage's memory (CPU share)",
        unit="MB",
        check=checks.lambda_memory_mb,
    )
    connect_memory_mb: int = setting(
        128,
        "on-demand/provisioned relay: onconnect's and ondisconnect's memory",
        unit="MB",
        check=checks.lambda_memory_mb,
    )
    lmi_min_environments: int = setting(
        3, "LMI relay: execution environments per function at least", check=at_least(1)
    )
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
    egress: str = setting(
        "public",
        "LMI relay: how the instances reach AWS's public endpoints (cost): 'nat' (NAT gateways) or "
        "'public' (a public IPv4 address per instance, as in Compiler Explorer's VPC)",
        choices=EGRESS,
    )
    nat_gateways: int = setting(
        3, "LMI relay: NAT gateways with --egress nat (cost)", check=checks.nat_gateways
    )
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
    # -- the scenarios' events
    event_at_s: float = _s(1200.0, "every scenario but steady: when the event starts")
    outage_s: float = _s(30.0, "outage/reconnect: how long every relay invocation fails")
    az_loss_s: float = _s(600.0, "az-loss: how long a third of the relay's capacity is gone")
    throttle_s: float = _s(600.0, "throttle: how long the burst (the peak) and the squeeze last")
    reclaim_every_s: float = _s(300.0, "cold: idle on-demand environments reclaimed this often", positive)
    sample_s: float = _s(10.0, "between samples of the time series", positive)
    region: str = setting("us-east-1", "AWS region of the prices (relay cost)", check=checks.region)

    @property
    def peak_jobs_per_s(self) -> float:
        """The daily peak: the mean x the peak factor."""
        return self.mean_jobs_per_s * self.peak_factor

    def validate(self) -> SimConfig:
        """The checks across fields (each field's own ran already): `UsageError`; self."""
        pairs = (
            ("compile_p99_s", "compile_median_s"),
            ("workers_max", "workers_min"),
            ("legacy_lag_p99_s", "legacy_lag_median_s"),
            ("legacy_ack_lag_p99_s", "legacy_ack_lag_median_s"),
            ("cold_start_p99_s", "cold_start_median_s"),
            ("lmi_max_environments", "lmi_min_environments"),
        )
        for high, low in pairs:
            above, below = getattr(self, high), getattr(self, low)
            if above < below:
                raise UsageError(f"{flag_of(high)} {above:g} must be at least {flag_of(low)} {below:g}")
        problem = checks.managed_memory(self.managed_memory_mb, self.memory_gib_per_vcpu)
        if problem is not None:
            raise UsageError(f"--managed-memory-mb: {problem}")
        shortest = MIN_SAMPLES * self.sample_s
        if self.duration_s and self.duration_s < shortest:
            raise UsageError(
                f"--duration-s {self.duration_s:g} is too short: a run needs at least {shortest:g} s "
                f"({MIN_SAMPLES} samples of --sample-s {self.sample_s:g} s); give --duration-s "
                f"{shortest:g} or more, a smaller --sample-s, or --duration-s 0 for the scenario's own"
            )
        return self

    def check_scenario(self, scenario: str, duration: float) -> None:
        """A run of `scenario` for `duration` must contain its event: `UsageError` otherwise."""
        if scenario != "steady" and self.event_at_s >= duration:
            raise UsageError(
                f"--event-at-s {self.event_at_s:g} is not before the end of the run ({duration:g} s): "
                f"the {scenario} scenario's event would never happen; lower --event-at-s or raise "
                "--duration-s"
            )


@dataclass(frozen=True)
class SimRun:
    """What `wsrelay simulate` runs besides the assumptions (flags only, never TOML keys)."""

    scenario: str = setting(
        "",
        "steady: 1 h at the mean; spike: the peak, then x --spike-factor; outage: the relay fails "
        "for --outage-s; az-loss: a third of the relay's capacity gone for --az-loss-s; throttle: "
        "the peak while other functions leave the relay --ondemand-share of the account's "
        "concurrency; reconnect: connections drop with a --outage-s outage and reconnect through "
        "$connect; cold: idle on-demand environments reclaimed every --reclaim-every-s",
        choices=NAMES,
        required=True,
        toml=False,
    )
    seed: int = setting(1, "the first seed of every random stream", toml=False, metavar="N")
    seeds: int = setting(
        1,
        "run seeds --seed .. --seed + N - 1 for every pair; report the mean and a 95% interval",
        toml=False,
        metavar="N",
        check=at_least(1),
    )
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
