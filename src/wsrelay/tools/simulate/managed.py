"""A relay function on Lambda Managed Instances: execution environments x processes, no cold
starts; CPU shared by the environments' vCPUs; throttled when every process is busy or the CPU
backlog passes a second; a scaler adds environments asynchronously, never more than doubling
within 5 minutes (AWS: "traffic that more than doubles within 5 minutes may be throttled"),
never beyond the maximum (`max_vcpu_count`)."""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Generator
from functools import partial
from typing import Any

import simpy

from wsrelay.tools.simulate.compute import Function
from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.timers import at

CPU_BACKLOG_THROTTLE_S = 1.0  # CPU queued longer than this is refused (CPUThrottles): assumed
LMI_SCALE_WINDOW_S = 300.0  # capacity at most doubles within 5 minutes
SCALE_IN_QUIET_INTERVALS = 5  # scaling decisions below half the target before one environment goes


class ManagedFunction(Function):
    """One function's LMI environments and its scaler."""

    mode = "managed"

    def __init__(self, env: simpy.Environment, config: SimConfig, cpu_s: dict[str, float], name: str) -> None:
        super().__init__(env, config, cpu_s, name)
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
                if self.low_intervals >= SCALE_IN_QUIET_INTERVALS:
                    self.low_intervals = 0
                    self._set_environments(self.environments - 1)

    def _arrive(self, count: int, restored: bool = False) -> None:
        if not restored:
            self.pending -= count
        self._set_environments(min(self.config.lmi_max_environments, self.environments + count))

    def lose_capacity(self, fraction: float, restore_after: float) -> None:
        lost = max(1, int(self.environments * fraction))
        self._set_environments(self.environments - lost if self.environments > lost else 1)
        at(self.env, restore_after, lambda: self._arrive(lost, restored=True))

    def finish(self, now: float) -> None:
        self._account()
