"""The simulation's inputs: one dataclass of assumptions (docs/capacity.md gives their sources),
each a TOML key and a flag ``--key-name``, validated with one-line reasons."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from wsrelay.cli.checks import UsageError

COMPUTE_MODES = ("ondemand", "provisioned", "managed")
RELAYS = ("legacy", "wsrelay")


@dataclass(frozen=True)
class SimConfig:
    """Assumptions of the simulation (defaults: docs/capacity.md)."""

    duration_s: float = 0.0  # 0: the scenario's own duration
    mean_jobs_per_s: float = 20.0
    peak_jobs_per_s: float = 60.0
    spike_factor: float = 5.0
    spike_s: float = 120.0
    compile_median_s: float = 1.5
    compile_p99_s: float = 15.0
    routers: int = 8
    subscribe_delay_s: float = 0.05
    router_timeout_s: float = 60.0
    connection_max_s: float = 7200.0
    reconnect_delay_s: float = 5.0
    reconnect_tries: int = 10
    resubscribe_window_s: float = 60.0
    queue_retention_s: float = 345600.0
    visibility_timeout_s: float = 30.0
    workers_min: int = 20
    workers_max: int = 100
    threads_per_worker: int = 4
    scale_out_jobs_per_worker: float = 2.0
    scale_delay_s: float = 180.0
    scale_interval_s: float = 60.0
    ack_timeout_s: float = 3.0
    ack_resends: int = 3
    io_wait_ms: float = 20.0
    cpu_factor: float = 1.0
    cold_start_s: float = 0.4
    ondemand_concurrency: int = 1000
    keep_warm_s: float = 600.0
    provisioned: int = 5
    function_memory_mb: int = 512
    lmi_min_environments: int = 3
    lmi_concurrency: int = 16
    lmi_max_environments: int = 32
    lmi_target_utilization: float = 0.7
    lmi_scale_interval_s: float = 60.0
    lmi_scale_delay_s: float = 120.0
    managed_memory_mb: int = 2048
    memory_gib_per_vcpu: int = 2
    instance_type: str = "c8g.large"
    nat_gateways: int = 3
    legacy_lag_median_s: float = 0.02
    legacy_lag_p99_s: float = 1.0
    legacy_ack_lag_median_s: float = 0.005
    legacy_ack_lag_p99_s: float = 0.05
    frame_latency_ms: float = 15.0
    event_at_s: float = 1200.0
    outage_s: float = 30.0
    az_loss_s: float = 600.0
    sample_s: float = 10.0
    region: str = "us-east-1"


FIELDS: dict[str, str] = {
    "duration_s": "simulated seconds (0: the scenario's default)",
    "mean_jobs_per_s": "mean compile jobs per second",
    "peak_jobs_per_s": "daily peak of jobs per second",
    "spike_factor": "spike scenario: multiple of the peak",
    "spike_s": "spike scenario: seconds the spike lasts",
    "compile_median_s": "compile time, median (lognormal)",
    "compile_p99_s": "compile time, 99th percentile",
    "routers": "router processes (one WebSocket each)",
    "subscribe_delay_s": "router: wait between subscribe and enqueue",
    "router_timeout_s": "router: wait for the result before HTTP 408",
    "connection_max_s": "API Gateway closes every connection after this",
    "reconnect_delay_s": "router: fixed delay between reconnect tries",
    "reconnect_tries": "router: tries before its health check fails",
    "resubscribe_window_s": "router: after a reconnect, resubscribe guids younger than this",
    "queue_retention_s": "queue: message retention",
    "visibility_timeout_s": "queue: visibility timeout of a received message",
    "workers_min": "compile workers, minimum",
    "workers_max": "compile workers, maximum",
    "threads_per_worker": "compile threads per worker",
    "scale_out_jobs_per_worker": "scale out when the queue holds more jobs per worker than this",
    "scale_delay_s": "seconds from the scaling decision to a working worker",
    "scale_interval_s": "seconds between autoscaling decisions",
    "ack_timeout_s": "worker: wait for the ack before resending",
    "ack_resends": "worker: resends before giving up",
    "io_wait_ms": "relay invocation: DynamoDB and post wait per invocation",
    "cpu_factor": "relay invocation: measured handler CPU x this on the target",
    "cold_start_s": "on-demand relay: cold start",
    "ondemand_concurrency": "on-demand relay: concurrency limit (throttles above)",
    "keep_warm_s": "on-demand relay: idle seconds before an environment is reclaimed",
    "provisioned": "provisioned relay: warm environments (overflow cold, then throttled)",
    "function_memory_mb": "on-demand/provisioned relay: function memory (CPU share)",
    "lmi_min_environments": "LMI relay: execution environments at least",
    "lmi_concurrency": "LMI relay: processes per execution environment",
    "lmi_max_environments": "LMI relay: execution environments at most (max vCPU)",
    "lmi_target_utilization": "LMI relay: scale out above this utilization",
    "lmi_scale_interval_s": "LMI relay: seconds between scaling decisions",
    "lmi_scale_delay_s": "LMI relay: seconds until a new environment serves",
    "managed_memory_mb": "LMI relay: function memory",
    "memory_gib_per_vcpu": "LMI relay: memory per vCPU (2, 4 or 8)",
    "instance_type": "LMI relay: instance type (cost)",
    "nat_gateways": "LMI relay: NAT gateways (cost)",
    "legacy_lag_median_s": "legacy relay: subscriber index lag, median (lognormal)",
    "legacy_lag_p99_s": "legacy relay: subscriber index lag, 99th percentile",
    "legacy_ack_lag_median_s": "legacy relay: lag of the eventually consistent sender read (ack), median",
    "legacy_ack_lag_p99_s": "legacy relay: lag of the sender read (ack), 99th percentile",
    "frame_latency_ms": "API Gateway: a frame to its invocation, and a post to its client",
    "event_at_s": "outage/az-loss/spike: when the event starts",
    "outage_s": "outage: seconds every relay invocation fails",
    "az_loss_s": "az-loss: seconds a third of the relay's capacity is gone",
    "sample_s": "seconds between samples of the time series",
    "region": "AWS region of the prices (relay cost)",
}


def from_mapping(values: dict[str, Any]) -> SimConfig:
    """The defaults with `values` (TOML keys or flags) applied, each checked for its type."""
    fields = {f.name: f for f in dataclasses.fields(SimConfig)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in fields:
            raise UsageError(f"unknown key {name!r} (see wsrelay simulate --help)")
        kind = type(fields[name].default)
        if kind is str:
            if not isinstance(value, str):
                raise UsageError(f"{name}: expected a string, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, int | float):
            raise UsageError(f"{name}: expected a number, got {value!r}")
        elif kind is int and value != int(value):
            raise UsageError(f"{name}: expected an integer, got {value!r}")
        out[name] = int(value) if kind is int else value
    return validate(dataclasses.replace(SimConfig(), **out))


def validate(config: SimConfig) -> SimConfig:
    """`config` if the simulation can run it, else `UsageError` with the first reason."""
    c = config
    for f in dataclasses.fields(SimConfig):
        value = getattr(c, f.name)
        if isinstance(value, int | float) and (not math.isfinite(value) or value < 0):
            raise UsageError(f"{f.name} must be a finite number >= 0, got {value}")
    positive = (
        "mean_jobs_per_s", "compile_median_s", "routers", "router_timeout_s", "connection_max_s",
        "threads_per_worker", "ack_timeout_s", "scale_interval_s", "lmi_scale_interval_s",
        "lmi_concurrency", "lmi_min_environments", "sample_s", "legacy_lag_median_s",
        "legacy_ack_lag_median_s",
    )  # fmt: skip
    for name in positive:
        if getattr(c, name) <= 0:
            raise UsageError(f"{name} must be > 0, got {getattr(c, name)}")
    checks = [
        (c.peak_jobs_per_s >= c.mean_jobs_per_s, "peak_jobs_per_s must be >= mean_jobs_per_s"),
        (c.compile_p99_s >= c.compile_median_s, "compile_p99_s must be >= compile_median_s"),
        (c.legacy_lag_p99_s >= c.legacy_lag_median_s, "legacy_lag_p99_s must be >= legacy_lag_median_s"),
        (c.legacy_ack_lag_p99_s >= c.legacy_ack_lag_median_s, "legacy_ack_lag_p99_s must be >= its median"),
        (1 <= c.workers_min <= c.workers_max, "workers must satisfy 1 <= workers_min <= workers_max"),
        (c.lmi_min_environments <= c.lmi_max_environments, "lmi_min_environments must be <= the max"),
        (0 < c.lmi_target_utilization <= 1, "lmi_target_utilization must be in (0, 1]"),
        (c.memory_gib_per_vcpu in (2, 4, 8), "memory_gib_per_vcpu must be 2, 4 or 8"),
        (c.managed_memory_mb >= 2048, "managed_memory_mb must be >= 2048 (LMI's minimum)"),
        (128 <= c.function_memory_mb <= 10240, "function_memory_mb must be 128..10240"),
        (c.spike_factor >= 1, "spike_factor must be >= 1"),
        (c.duration_s == 0 or c.duration_s >= 10 * c.sample_s, "duration_s must be at least 10 samples"),
    ]
    for ok, message in checks:
        if not ok:
            raise UsageError(message)
    return config
