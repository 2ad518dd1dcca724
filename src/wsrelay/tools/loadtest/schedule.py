"""The open-loop arrival schedule: every job's send time is fixed before the run starts.

Latency is measured from these intended times, so a generator or relay stall shows up as latency
instead of silently delaying the next send (no coordinated omission).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator

ARRIVALS = ("uniform", "poisson")


def job_count(rate: float, duration: float) -> int:
    """Jobs in a run: one every ``1/rate`` seconds within ``[0, duration)``."""
    return max(0, math.ceil(rate * duration - 1e-9))


def arrival_offsets(
    rate: float, duration: float, arrivals: str = "uniform", seed: int = 0
) -> Iterator[float]:
    """Seconds from the start at which each job is due, in order, all below `duration`.

    ``uniform``: exactly ``i / rate``. ``poisson``: exponential gaps of mean ``1 / rate`` drawn
    from `seed` (the same seed gives the same schedule).
    """
    if rate <= 0 or duration <= 0:
        raise ValueError("rate and duration must be positive")
    if arrivals == "uniform":
        for index in range(job_count(rate, duration)):
            yield index / rate
        return
    if arrivals != "poisson":
        raise ValueError(f"arrivals must be one of {ARRIVALS}, got {arrivals!r}")
    rng = random.Random(seed)
    offset = 0.0
    while offset < duration:
        yield offset
        offset += rng.expovariate(rate)
