"""Deterministic random streams: one `random.Random` per named component, seeded from the run's
seed by SHA-256 (never Python's `hash`, which changes with PYTHONHASHSEED), so a seed gives the
same run in any process and adding draws to one component leaves the others unchanged."""

from __future__ import annotations

import hashlib
import math
import random

# z of the 99th percentile of the standard normal distribution
Z99 = 2.3263478740408408


def stream(seed: int, name: str) -> random.Random:
    """The random stream of component `name` for `seed`."""
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


class LogNormal:
    """A lognormal distribution given by its median and 99th percentile."""

    def __init__(self, median: float, p99: float) -> None:
        if not 0 < median <= p99:
            raise ValueError(f"lognormal needs 0 < median <= p99, got {median}, {p99}")
        self.mu = math.log(median)
        self.sigma = math.log(p99 / median) / Z99

    def draw(self, rng: random.Random) -> float:
        """One value drawn from `rng`."""
        return rng.lognormvariate(self.mu, self.sigma)

    @property
    def mean(self) -> float:
        """The distribution's mean."""
        return math.exp(self.mu + self.sigma**2 / 2)
