"""One simulation run: a scenario, a compute mode and a relay (the legacy model, or wsrelay's
`Relay` with a publisher ack mode), wired together and run for the scenario's duration; the
result is the job accounting, the relay's usage and cost, and the time series."""

from __future__ import annotations

import math
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from wsrelay.percentile import percentile
from wsrelay.tools.prices import Prices
from wsrelay.tools.simulate import compute as compute_modes
from wsrelay.tools.simulate.billing import relay_cost
from wsrelay.tools.simulate.jobs import DELIVERED, LOST, TIMED_OUT
from wsrelay.tools.simulate.legacy import LegacyRelay
from wsrelay.tools.simulate.metrics import Metrics, Series
from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.relay_service import ProductRelay, RelayFront
from wsrelay.tools.simulate.routers import Routers
from wsrelay.tools.simulate.scenarios import Scenario
from wsrelay.tools.simulate.streams import LogNormal, stream
from wsrelay.tools.simulate.switchboard import Switchboard
from wsrelay.tools.simulate.workers import WorkerPool

TIDY_EVERY_S = 60.0  # how often the store forgets expired channels (memory only: no outcome)
INVOCATIONS_PER_JOB = 4  # subscribe, publish, ack, unsubscribe: for the warm start on demand


@dataclass
class RunResult:
    """The summary (the JSON row), the series and the Little's law pair of one run."""

    summary: dict[str, Any]
    series: Series
    little: tuple[float, float]


def _arrivals(
    env: simpy.Environment, scenario: Scenario, routers: Routers, seed: int
) -> Generator[Any, Any, None]:
    rng = stream(seed, "arrivals")
    job_id = 0
    while True:
        rate, changes_at = scenario.rate(env.now)
        gap = rng.expovariate(rate) if rate > 0 else float("inf")
        if env.now + gap >= changes_at:
            # memoryless: restart the draw at the rate change
            yield env.timeout(changes_at - env.now)
            continue
        yield env.timeout(gap)
        routers.new_job(job_id)
        job_id += 1


def _tidy(env: simpy.Environment, front: RelayFront) -> Generator[Any, Any, None]:
    while True:
        yield env.timeout(TIDY_EVERY_S)
        front.tidy(env.now)


def warm_environments(config: SimConfig, rate: float) -> int:
    """On-demand environments warm at the start: the busy ones at `rate`, plus three standard
    deviations (Poisson), so that a run starts in its steady state, not from a cold function."""
    busy = rate * INVOCATIONS_PER_JOB * (config.io_wait_ms / 1000 + 0.01)
    return math.ceil(busy + 3 * math.sqrt(busy)) + 1


def run(
    config: SimConfig,
    scenario_name: str,
    mode: str,
    relay_name: str,
    publisher_ack: str,
    seed: int,
    cpu_s: dict[str, float],
    prices: Prices,
    progress: Callable[[float], None] | None = None,
) -> RunResult:
    """Run one (scenario, compute, relay, publisher ack) combination for `seed`."""
    env = simpy.Environment()
    scenario = Scenario(scenario_name, config)
    first_rate = scenario.rate(0.0)[0]
    functions = compute_modes.make(mode, env, config, cpu_s, seed, warm_environments(config, first_rate))
    switchboard = Switchboard(env, config.frame_latency_ms / 1000.0)
    front: RelayFront
    if relay_name == "legacy":
        index_lag = LogNormal(config.legacy_lag_median_s, config.legacy_lag_p99_s)
        read_lag = LogNormal(config.legacy_ack_lag_median_s, config.legacy_ack_lag_p99_s)
        front = LegacyRelay(env, functions, switchboard, index_lag, read_lag, stream(seed, "index-lag"))
    elif relay_name == "wsrelay":
        front = ProductRelay(env, functions, switchboard, publisher_ack, config.result_ttl_s)
    else:
        raise ValueError(f"unknown relay {relay_name!r}")
    pool = WorkerPool(
        env, config, front, stream(seed, "compile"), stream(seed, "worker-connections"), first_rate
    )
    routers = Routers(env, config, front, pool.queue.put, stream(seed, "connections"))
    metrics = Metrics(env, config.sample_s, routers, pool, functions, progress)
    routers.on_end = metrics.on_end
    functions.start()
    pool.start()
    metrics.start()
    scenario.schedule(env, functions, routers, pool)
    env.process(_arrivals(env, scenario, routers, seed))
    env.process(_tidy(env, front))
    duration = scenario.duration
    env.run(until=duration)
    functions.finish(duration)
    ends = metrics.ends
    usage = functions.usage
    summary: dict[str, Any] = {
        "compute": mode,
        "relay": relay_name,
        "publisher_ack": publisher_ack,
        "seed": seed,
        "jobs": routers.jobs,
        "delivered": ends[DELIVERED],
        "timed_out": ends[TIMED_OUT],
        "lost": ends[LOST],
        "in_flight": routers.in_system(),
        "p99_latency_s": round(percentile(metrics.latencies, 99), 3) if metrics.latencies else None,
        "relay_cost_usd": round(relay_cost(config, functions, prices, duration), 4),
        "relay_invocations": usage.invocations,
        "relay_throttles": usage.throttles,
        "relay_failures": usage.failures,
        "cold_starts": usage.cold_starts,
        "max_environments": usage.max_environments,
        "worker_resends": pool.resends,
        "worker_give_ups": pool.gave_up,
        "worker_unsent": pool.unsent,
        "worker_failures": pool.failures,
        "queue_redeliveries": pool.queue.redelivered,
        "queue_expired": pool.queue.expired,
        "max_queue_depth": max(metrics.series.queue_depth, default=0),
        "max_workers": max(metrics.series.workers, default=0),
        "router_reconnects": routers.reconnects,
        "dead_routers": routers.dead_routers,
        "posts_gone": switchboard.gone,
        "relay_counts": dict(sorted(front.counts.items())),
    }
    # Little's law in the steady state: before the scenario's event (steady: the whole run), one
    # router timeout in from either end so that the jobs counted are those the samples saw
    event = scenario.window()
    steady_end = event[0] if event is not None else duration
    window = (min(config.router_timeout_s, duration / 4), steady_end - config.router_timeout_s)
    return RunResult(summary, metrics.series, metrics.littles_law(*window))
