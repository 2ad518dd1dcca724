"""One simulation run: a scenario, a compute mode and a relay semantics, wired together and run
for the scenario's duration; the result is the job accounting, the relay's usage and cost, and
the time series."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import simpy

from wsrelay.percentile import percentile
from wsrelay.tools.prices import Prices
from wsrelay.tools.simulate import compute as compute_modes
from wsrelay.tools.simulate import semantics as relay_semantics
from wsrelay.tools.simulate.billing import relay_cost
from wsrelay.tools.simulate.jobs import DELIVERED, LOST, TIMED_OUT
from wsrelay.tools.simulate.metrics import Metrics, Series
from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.relay_service import RelayService
from wsrelay.tools.simulate.routers import Routers
from wsrelay.tools.simulate.scenarios import Scenario
from wsrelay.tools.simulate.streams import LogNormal, stream
from wsrelay.tools.simulate.workers import WorkerPool


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


def run(
    config: SimConfig,
    scenario_name: str,
    mode: str,
    relay_name: str,
    seed: int,
    cpu_s: dict[str, float],
    prices: Prices,
    progress: Callable[[float], None] | None = None,
) -> RunResult:
    """Run one (scenario, compute, relay) combination for `seed`."""
    env = simpy.Environment()
    scenario = Scenario(scenario_name, config)
    compute = compute_modes.make(mode, env, config, cpu_s)
    semantics = relay_semantics.make(relay_name)
    lag = LogNormal(config.legacy_lag_median_s, config.legacy_lag_p99_s)
    ack_lag = LogNormal(config.legacy_ack_lag_median_s, config.legacy_ack_lag_p99_s)
    relay = RelayService(env, compute, semantics, lag, ack_lag, stream(seed, "index-lag"))
    relay.latency = config.frame_latency_ms / 1000.0
    pool = WorkerPool(env, config, relay, stream(seed, "compile"), scenario.rate(0.0)[0])
    routers = Routers(env, config, relay, pool.queue.put, stream(seed, "connections"))
    metrics = Metrics(env, config.sample_s, routers, pool, compute, progress)
    relay.post_result = routers.receive  # type: ignore[assignment]
    relay.post_ack = pool.receive_ack
    routers.on_end = metrics.on_end
    compute.start()
    pool.start()
    metrics.start()
    scenario.schedule(compute)
    env.process(_arrivals(env, scenario, routers, seed))
    duration = scenario.duration
    env.run(until=duration)
    compute.finish(duration)
    ends = metrics.ends
    in_flight = routers.in_system()
    usage = compute.usage
    summary: dict[str, Any] = {
        "compute": mode,
        "relay": relay_name,
        "jobs": routers.jobs,
        "delivered": ends[DELIVERED],
        "timed_out": ends[TIMED_OUT],
        "lost": ends[LOST],
        "in_flight": in_flight,
        "p99_latency_s": round(percentile(metrics.latencies, 99), 4),
        "relay_cost_usd": round(relay_cost(config, compute, prices, duration), 4),
        "relay_invocations": usage.invocations,
        "relay_throttles": usage.throttles,
        "relay_failures": usage.failures,
        "cold_starts": usage.cold_starts,
        "max_environments": usage.max_environments,
        "no_listeners": relay.no_listeners,
        "acks_unroutable": relay.acks_unroutable,
        "worker_resends": pool.resends,
        "worker_give_ups": pool.gave_up,
        "queue_redeliveries": pool.queue.redelivered,
        "max_queue_depth": max(metrics.series.queue_depth, default=0),
        "max_workers": max(metrics.series.workers, default=0),
        "router_reconnects": routers.reconnects,
        "dead_routers": routers.dead_routers,
    }
    window = (min(config.router_timeout_s, duration / 4), duration - config.router_timeout_s)
    return RunResult(summary, metrics.series, metrics.littles_law(*window))
