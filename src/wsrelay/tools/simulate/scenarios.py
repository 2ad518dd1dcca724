"""The scenarios: a traffic profile (jobs per second over time) and what goes wrong when.

- steady: one hour at the mean;
- spike: the daily peak, then 5x the peak for 2 minutes, then the peak again (30 minutes);
- outage: the mean, and every relay invocation fails for 30 s;
- az-loss: the mean, and a third of the relay's capacity is lost, replaced after the scaling delay.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wsrelay.tools.simulate.parameters import DURATIONS_S, NAMES, SimConfig
from wsrelay.tools.simulate.timers import at

if TYPE_CHECKING:  # only annotations: keep simpy off the import path of the settings
    from wsrelay.tools.simulate.compute import Compute

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
        if self.name != "spike":
            return c.mean_jobs_per_s, math.inf
        start, end = c.event_at_s, c.event_at_s + c.spike_s
        if t < start:
            return c.peak_jobs_per_s, start
        if t < end:
            return c.peak_jobs_per_s * c.spike_factor, end
        return c.peak_jobs_per_s, math.inf

    def schedule(self, compute: Compute) -> None:
        """Arrange the scenario's failure on `compute`."""
        c = self.config
        if self.name == "outage":
            compute.fail_between(c.event_at_s, c.event_at_s + c.outage_s)
        elif self.name == "az-loss":
            restore = min(c.az_loss_s, c.lmi_scale_delay_s)
            at(compute.env, c.event_at_s, lambda: compute.lose_capacity(1 / 3, restore))
