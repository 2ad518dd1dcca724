"""What a run records: how each job ended and its latency, time series sampled at a fixed step
(queue depth, workers, relay throttles, job latency) and the number of jobs in the system every
second (for Little's law). A sample with no job delivered has no latency (None: a gap in the
plot, never 0 s)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import simpy

from wsrelay.percentile import percentile
from wsrelay.tools.simulate.compute import Functions
from wsrelay.tools.simulate.jobs import DELIVERED, Job
from wsrelay.tools.simulate.routers import Routers
from wsrelay.tools.simulate.workers import WorkerPool

LITTLE_STEP_S = 1.0


@dataclass
class Series:
    """Samples every `step` seconds."""

    t: list[float] = field(default_factory=list)
    queue_depth: list[int] = field(default_factory=list)
    workers: list[int] = field(default_factory=list)
    connected_workers: list[int] = field(default_factory=list)
    throttles: list[int] = field(default_factory=list)
    latency_p99_s: list[float | None] = field(default_factory=list)
    in_system: list[int] = field(default_factory=list)


class Metrics:
    """Counters and samplers of one run."""

    def __init__(
        self,
        env: simpy.Environment,
        step: float,
        routers: Routers,
        pool: WorkerPool,
        functions: Functions,
        progress: Callable[[float], None] | None = None,
    ) -> None:
        self.env = env
        self.step = step
        self.routers = routers
        self.pool = pool
        self.functions = functions
        self.progress = progress
        self.jobs = 0
        self.ends: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.finished: list[tuple[float, float]] = []  # (arrival, time in system) of ended jobs
        self.series = Series()
        self.little: list[tuple[float, int]] = []

    def on_end(self, job: Job) -> None:
        """A job was delivered, timed out or lost."""
        self.ends[job.state] += 1
        end = job.delivered_at if job.state == DELIVERED else job.deadline
        assert end is not None
        self.finished.append((job.arrival, end - job.arrival))
        if job.state == DELIVERED:
            self.latencies.append(end - job.arrival)

    def start(self) -> None:
        """Start both samplers."""
        self.env.process(self._sample())
        self.env.process(self._sample_little())

    def _sample(self) -> Generator[Any, Any, None]:
        seen_latencies = 0
        seen_throttles = 0
        while True:
            yield self.env.timeout(self.step)
            usage = self.functions.usage
            refused = usage.throttles + usage.failures
            s = self.series
            s.t.append(self.env.now)
            s.queue_depth.append(self.pool.queue.depth())
            s.workers.append(self.pool.active())
            s.connected_workers.append(self.pool.connected())
            s.throttles.append(refused - seen_throttles)
            recent = self.latencies[seen_latencies:]
            s.latency_p99_s.append(percentile(recent, 99) if recent else None)
            s.in_system.append(self.routers.in_system())
            seen_latencies, seen_throttles = len(self.latencies), refused
            if self.progress is not None:
                self.progress(self.env.now)

    def _sample_little(self) -> Generator[Any, Any, None]:
        while True:
            yield self.env.timeout(LITTLE_STEP_S)
            self.little.append((self.env.now, self.routers.in_system()))

    def littles_law(self, start: float, end: float) -> tuple[float, float]:
        """(mean jobs in the system sampled in [start, end), arrival rate x mean time in system of
        the jobs that arrived then): equal in a steady state."""
        samples = [n for t, n in self.little if start <= t < end]
        sojourns = [w for arrival, w in self.finished if start <= arrival < end]
        if not samples or not sojourns:
            return 0.0, 0.0
        rate = len(sojourns) / (end - start)
        return sum(samples) / len(samples), rate * sum(sojourns) / len(sojourns)
