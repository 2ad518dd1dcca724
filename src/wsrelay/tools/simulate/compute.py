"""Where the relay's invocations run: on-demand Lambda, provisioned concurrency, or Lambda Managed
Instances. Each answers one question, `admit(op, now)`: when does this invocation end, or is it
throttled (None)? Occupancy is kept in heaps of end times and settled lazily at each admission,
so invocations cost no SimPy events; only LMI's scaler is a process.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass
from functools import partial
from typing import Any

import simpy

from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.timers import at

FULL_VCPU_MB = 1769  # Lambda: one vCPU's worth of CPU at 1,769 MB, a share in proportion below
CPU_BACKLOG_THROTTLE_S = 1.0  # LMI: CPU queued longer than this is refused (CPUThrottles)
LMI_SCALE_WINDOW_S = 300.0  # LMI: capacity at most doubles within 5 minutes


@dataclass
class Usage:
    """What a compute mode did and what it bills (for the relay's cost)."""

    invocations: int = 0
    throttles: int = 0
    failures: int = 0
    cold_starts: int = 0
    ondemand_gb_s: float = 0.0
    provisioned_used_gb_s: float = 0.0
    environment_seconds: float = 0.0  # LMI: environments x time
    max_environments: int = 0


class Compute:
    """Common part: the outage window, counting, and the CPU time of each operation."""

    mode = ""

    def __init__(self, env: simpy.Environment, config: SimConfig, cpu_s: dict[str, float]) -> None:
        self.env = env
        self.config = config
        self.cpu_s = {op: s * config.cpu_factor for op, s in cpu_s.items()}
        self.io_s = config.io_wait_ms / 1000.0
        self.fail_from = math.inf
        self.fail_until = -math.inf
        self.usage = Usage()

    def fail_between(self, start: float, end: float) -> None:
        """Every invocation in [start, end) fails (the outage scenario)."""
        self.fail_from, self.fail_until = start, end

    def admit(self, op: str, now: float) -> float | None:
        """End time of an invocation of `op` starting `now`, or None if it fails or is throttled."""
        self.usage.invocations += 1
        if self.fail_from <= now < self.fail_until:
            self.usage.failures += 1
            return None
        end = self._admit(op, now)
        if end is None:
            self.usage.throttles += 1
        return end

    def _admit(self, op: str, now: float) -> float | None:
        raise NotImplementedError

    def lose_capacity(self, fraction: float, restore_after: float) -> None:
        """An AZ goes away: `fraction` of the capacity is lost, back after `restore_after`."""
        raise NotImplementedError

    def start(self) -> None:
        """Start any process the mode needs (LMI's scaler)."""

    def finish(self, now: float) -> None:
        """Close the time integrals at the end of the run."""


class LambdaCompute(Compute):
    """Standard Lambda: `provisioned` warm environments that never go cold, then on-demand ones
    (a cold start when none is idle) up to the concurrency limit; throttled above it."""

    def __init__(
        self, env: simpy.Environment, config: SimConfig, cpu_s: dict[str, float], provisioned: int
    ) -> None:
        super().__init__(env, config, cpu_s)
        self.mode = "provisioned" if provisioned else "ondemand"
        self.provisioned = provisioned
        self.share = min(1.0, config.function_memory_mb / FULL_VCPU_MB)
        self.gb = config.function_memory_mb / 1024
        self.pc_busy: list[float] = []  # end times of invocations on provisioned environments
        self.od_busy: list[float] = []  # end times of invocations on on-demand environments
        self.od_idle: deque[float] = deque()  # idle-since of warm on-demand environments, oldest first

    def _settle(self, now: float) -> None:
        while self.pc_busy and self.pc_busy[0] <= now:
            heapq.heappop(self.pc_busy)
        while self.od_busy and self.od_busy[0] <= now:
            self.od_idle.append(heapq.heappop(self.od_busy))
        while self.od_idle and self.od_idle[0] + self.config.keep_warm_s < now:
            self.od_idle.popleft()

    def _admit(self, op: str, now: float) -> float | None:
        self._settle(now)
        duration = self.io_s + self.cpu_s[op] / self.share
        if len(self.pc_busy) < self.provisioned:
            heapq.heappush(self.pc_busy, now + duration)
            self.usage.provisioned_used_gb_s += duration * self.gb
            return now + duration
        if self.od_idle:
            self.od_idle.pop()
        elif len(self.pc_busy) + len(self.od_busy) + len(self.od_idle) < self.config.ondemand_concurrency:
            self.usage.cold_starts += 1
            duration += self.config.cold_start_s
        else:
            return None
        heapq.heappush(self.od_busy, now + duration)
        self.usage.ondemand_gb_s += duration * self.gb
        return now + duration

    def lose_capacity(self, fraction: float, restore_after: float) -> None:
        lost_pc = int(self.provisioned * fraction)
        self.provisioned -= lost_pc
        for _ in range(int(len(self.od_idle) * fraction)):
            self.od_idle.pop()
        if lost_pc:
            at(self.env, restore_after, partial(self._restore, lost_pc))

    def _restore(self, count: int) -> None:
        self.provisioned += count


class ManagedCompute(Compute):
    """Lambda Managed Instances: environments x processes, no cold starts; CPU shared by the
    environments' vCPUs; throttled when every process is busy or the CPU is saturated; a scaler
    adds environments asynchronously, at most doubling within 5 minutes."""

    mode = "managed"

    def __init__(self, env: simpy.Environment, config: SimConfig, cpu_s: dict[str, float]) -> None:
        super().__init__(env, config, cpu_s)
        self.environments = config.lmi_min_environments
        self.pending = 0
        self.vcpu_per_env = config.managed_memory_mb / 1024 / config.memory_gib_per_vcpu
        self.busy: list[float] = []
        self.cpu_cursor = 0.0
        self.peak_busy = 0
        self.cpu_work = 0.0
        self.history: deque[tuple[float, int]] = deque([(0.0, self.environments)])
        self.low_intervals = 0
        self.last_change = 0.0
        self.usage.max_environments = self.environments

    def _account(self) -> None:
        now = self.env.now
        self.usage.environment_seconds += self.environments * (now - self.last_change)
        self.last_change = now

    def _set_environments(self, count: int) -> None:
        self._account()
        self.environments = count
        self.usage.max_environments = max(self.usage.max_environments, count)
        self.history.append((self.env.now, count))

    def _admit(self, op: str, now: float) -> float | None:
        while self.busy and self.busy[0] <= now:
            heapq.heappop(self.busy)
        vcpus = self.environments * self.vcpu_per_env
        backlog = max(0.0, self.cpu_cursor - now)
        if (
            len(self.busy) >= self.environments * self.config.lmi_concurrency
            or backlog > CPU_BACKLOG_THROTTLE_S
        ):
            return None
        cpu = self.cpu_s[op]
        self.cpu_cursor = max(now, self.cpu_cursor) + cpu / vcpus
        self.cpu_work += cpu
        end = now + self.io_s + cpu + backlog
        heapq.heappush(self.busy, end)
        self.peak_busy = max(self.peak_busy, len(self.busy))
        return end

    def start(self) -> None:
        self.env.process(self._scaler())

    def _scaler(self) -> Generator[Any, Any, None]:
        c = self.config
        while True:
            yield self.env.timeout(c.lmi_scale_interval_s)
            slots = self.environments * c.lmi_concurrency
            cpu = self.cpu_work / (self.environments * self.vcpu_per_env * c.lmi_scale_interval_s)
            utilization = max(self.peak_busy / slots, cpu)
            self.peak_busy, self.cpu_work = 0, 0.0
            now = self.env.now
            while len(self.history) > 1 and self.history[1][0] <= now - LMI_SCALE_WINDOW_S:
                self.history.popleft()
            if utilization > c.lmi_target_utilization:
                self.low_intervals = 0
                want = math.ceil(self.environments * utilization / c.lmi_target_utilization)
                want = min(want, 2 * self.history[0][1], c.lmi_max_environments)
                add = want - self.environments - self.pending
                if add > 0:
                    self.pending += add
                    at(self.env, c.lmi_scale_delay_s, partial(self._arrive, add))
            elif utilization < c.lmi_target_utilization / 2 and self.environments > c.lmi_min_environments:
                self.low_intervals += 1
                if self.low_intervals >= 5:
                    self.low_intervals = 0
                    self._set_environments(self.environments - 1)

    def _arrive(self, count: int, restored: bool = False) -> None:
        if not restored:
            self.pending -= count
        self._set_environments(min(self.config.lmi_max_environments, self.environments + count))

    def lose_capacity(self, fraction: float, restore_after: float) -> None:
        lost = max(1, int(self.environments * fraction))
        self._set_environments(self.environments - lost if self.environments > lost else 1)
        at(self.env, restore_after, partial(self._arrive, lost, restored=True))

    def finish(self, now: float) -> None:
        self._account()


def make(mode: str, env: simpy.Environment, config: SimConfig, cpu_s: dict[str, float]) -> Compute:
    """The compute mode called `mode`."""
    if mode == "managed":
        return ManagedCompute(env, config, cpu_s)
    if mode == "provisioned":
        return LambdaCompute(env, config, cpu_s, config.provisioned)
    if mode == "ondemand":
        return LambdaCompute(env, config, cpu_s, 0)
    raise ValueError(f"unknown compute mode {mode!r}")
