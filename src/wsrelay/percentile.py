"""The one percentile definition of wsrelay: the nearest-rank method.

Every percentile wsrelay computes by hand (the local stack's ``/_wsrelay/stats``, the capacity
simulator's series and summary) goes through this module, so the figures of different tools
mean the same thing. (The load generator's percentiles come from its HdrHistograms.)

Definition: for ``n`` values and ``q`` in [0, 100], the q-th percentile is the value at rank
``ceil(q / 100 * n)`` of the values sorted in ascending order, ranks counting from 1; the rank is
at least 1, so p0 is the minimum. Every result is one of the values, never an interpolation
between two. For 1..100: p50 is 50, p99 is 99, p100 is 100 (the maximum). With fewer than 100
values p99 is the maximum (ceil(0.99 * n) = n for n < 100).

Empty input: the result is 0.0 (a stats document with no samples shows zeros).

``q`` is taken as the decimal it prints as (99.9 is 999/10, not the binary float just below it),
and the rank is computed exactly: in floats ``7 / 100 * 100`` is 7.000000000000001, which a plain
``ceil`` would turn into rank 8.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction


def _check(q: float) -> None:
    if not 0 <= q <= 100:  # NaN fails this too
        raise ValueError(f"a percentile is between 0 and 100, got {q!r}")


def rank(q: float, n: int) -> int:
    """The 1-based rank of the q-th percentile among `n` (> 0) sorted values."""
    _check(q)
    if n <= 0:
        raise ValueError(f"a rank needs at least one value, got n={n}")
    exact_q = Fraction(str(q)) if isinstance(q, float) else Fraction(q)
    return max(1, math.ceil(exact_q * n / 100))


def percentile_of_sorted(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile of values already sorted ascending; 0.0 when there are none."""
    if not sorted_values:
        _check(q)
        return 0.0
    return sorted_values[rank(q, len(sorted_values)) - 1]


def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0..100) of `values`, in any order; 0.0 when there are none."""
    return percentile_of_sorted(sorted(values), q)


def percentiles(values: Iterable[float], qs: Iterable[float]) -> list[float]:
    """Several percentiles of `values` for one sort, in the order of `qs`."""
    ordered = sorted(values)
    return [percentile_of_sorted(ordered, q) for q in qs]
