"""The scenarios: a traffic profile (jobs per second over time) and what goes wrong when.

- steady: one hour at the mean;
- spike: the daily peak, then 5x the peak for 2 minutes, then the peak again (30 minutes): more
  than the worker fleet can compile, whatever the relay runs on;
- outage: the mean, and every relay invocation fails for 30 s (the same in every compute mode);
- az-loss: the mean, and a third of the relay's capacity is lost, replaced after the scaling delay;
- throttle: the mean, then the peak for 10 minutes (which the workers can compile) while the
  account's other functions leave the relay `--ondemand-share` of the account's concurrency: the
  relay's capacity is the limit (on demand: the share; provisioned: its environments, then the
  share; LMI: its processes and its scaling);
- reconnect: the mean, and a 30 s relay outage that also drops every router's and worker's
  connection: they reconnect through `$connect` as their sources do (a worker out of its 5 tries
  fails permanently);
- cold: the mean, and from minute 20 Lambda reclaims every idle on-demand environment every
  5 minutes: the next invocations start cold, with the cold-start distribution's long tail.

Every scenario also closes each connection at its 2-hour age (ages spread over [0, 2 h) at the
start).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wsrelay.tools.simulate.parameters import DURATIONS_S, NAMES, SimConfig
from wsrelay.tools.simulate.timers import at

if TYPE_CHECKING:  # only annotations: keep simpy off the import path of the settings
    import simpy

    from wsrelay.tools.simulate.compute import Functions
    from wsrelay.tools.simulate.routers import Routers
    from wsrelay.tools.simulate.workers import WorkerPool

__all__ = ["DURATIONS_S", "NAMES", "Scenario"]


@dataclass(frozen=True)
class Scenario:
    """A named traffic profile and its event, for one configuration."""

    name: str
    config: SimConfig

    @property
    def duration(self) -> float:
        """Simulated seconds."""
        return self.config.duration_s or DURATIONS_S[self.name]

    def rate(self, t: float) -> tuple[float, float]:
        """(jobs per second at `t`, the time the rate next changes)."""
        c = self.config
        if self.name == "spike":
            base, burst, length = c.peak_jobs_per_s, c.peak_jobs_per_s * c.spike_factor, c.spike_s
        elif self.name == "throttle":
            base, burst, length = c.mean_jobs_per_s, c.peak_jobs_per_s, c.throttle_s
        else:
            return c.mean_jobs_per_s, math.inf
        start, end = c.event_at_s, c.event_at_s + length
        if t < start:
            return base, start
        if t < end:
            return burst, end
        return base, math.inf

    def window(self) -> tuple[float, float] | None:
        """When the event acts (start, end), clipped to the run; None for steady."""
        c = self.config
        lengths = {
            "spike": c.spike_s,
            "outage": c.outage_s,
            "reconnect": c.outage_s,
            "az-loss": min(c.az_loss_s, c.lmi_scale_delay_s),
            "throttle": c.throttle_s,
            "cold": math.inf,  # the reclaims go on to the end
        }
        if self.name not in lengths:
            return None
        return c.event_at_s, min(self.duration, c.event_at_s + lengths[self.name])

    def schedule(
        self, env: simpy.Environment, functions: Functions, routers: Routers, pool: WorkerPool
    ) -> None:
        """Arrange the scenario's event on the relay's functions and the clients."""
        c = self.config
        start = c.event_at_s
        if self.name in ("outage", "reconnect"):
            functions.fail_between(start, start + c.outage_s)
        if self.name == "reconnect":

            def drop() -> None:
                routers.drop_all()
                pool.drop_all()

            at(env, start, drop)
        elif self.name == "az-loss":
            restore = min(c.az_loss_s, c.lmi_scale_delay_s)
            at(env, start, lambda: functions.lose_capacity(1 / 3, restore))
        elif self.name == "throttle":
            functions.account.squeeze(start, start + c.throttle_s)
        elif self.name == "cold":
            t = start
            while t < self.duration:
                at(env, t, functions.account.reclaim)
                t += c.reclaim_every_s
