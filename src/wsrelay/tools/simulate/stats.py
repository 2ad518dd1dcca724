"""Seed statistics: the mean of a figure over seeds with a 95% confidence interval (Student's t),
and whether a difference between two pairs lies within the seed variance (the 95% interval of
the per-seed difference includes 0: the runs of one seed share their arrivals, compile times
and connection ages, so the paired difference is the sharper test)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# Student's t, two-sided 95% (0.975 quantile), by degrees of freedom; 1.96 beyond the table.
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with `df` degrees of freedom (df >= 1)."""
    if df < 1:
        raise ValueError(f"degrees of freedom must be at least 1, got {df}")
    return _T975[df - 1] if df <= len(_T975) else 1.96


@dataclass(frozen=True)
class Estimate:
    """A mean over `n` seeds and its 95% interval (`half` is None with one seed: no interval)."""

    mean: float
    half: float | None
    n: int

    @property
    def low(self) -> float | None:
        """The interval's lower end."""
        return None if self.half is None else self.mean - self.half

    @property
    def high(self) -> float | None:
        """The interval's upper end."""
        return None if self.half is None else self.mean + self.half

    def contains_zero(self) -> bool | None:
        """True if the interval includes 0; None with one seed (no variance to judge by)."""
        if self.half is None:
            return None
        return abs(self.mean) <= self.half

    def as_json(self, digits: int) -> dict[str, float | int | None]:
        """{mean, low, high, n}, rounded to `digits` decimals."""
        low, high = self.low, self.high
        return {
            "mean": round(self.mean, digits),
            "low": None if low is None else round(low, digits),
            "high": None if high is None else round(high, digits),
            "n": self.n,
        }


def estimate(values: Sequence[float]) -> Estimate:
    """The mean of `values` and its 95% interval."""
    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = math.fsum(values) / n
    if n == 1:
        return Estimate(mean, None, 1)
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    return Estimate(mean, t975(n - 1) * math.sqrt(variance / n), n)


def paired_difference(a: Sequence[float], b: Sequence[float]) -> Estimate:
    """The mean of a - b, seed by seed, and its 95% interval."""
    if len(a) != len(b):
        raise ValueError("paired values need as many of each")
    return estimate([x - y for x, y in zip(a, b, strict=True)])
