"""wsrelay.percentile: the nearest-rank definition, its edge cases, its properties (hypothesis),
and the two places that report percentiles through it (the local stack's stats, the simulator)."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsrelay.local.stats import RouteStats
from wsrelay.percentile import percentile, percentile_of_sorted, percentiles, rank

ONE_TO_100 = [float(i) for i in range(1, 101)]

values = st.lists(st.floats(allow_nan=False, allow_infinity=False, width=32), min_size=1, max_size=200)
qs = st.floats(min_value=0, max_value=100, allow_nan=False)
integer_qs = st.integers(min_value=0, max_value=100)


def test_the_100_sample_case():
    shuffled = random.Random(7).sample(ONE_TO_100, k=100)
    assert percentile(shuffled, 99) == 99.0  # not the maximum
    assert percentile(shuffled, 50) == 50.0
    assert percentile(shuffled, 90) == 90.0
    assert percentile(shuffled, 100) == 100.0
    assert percentile(shuffled, 0) == 1.0
    assert percentile(shuffled, 99.5) == 100.0  # rank ceil(99.5) = 100
    assert percentile(shuffled, 1) == 1.0


def test_small_samples_and_exact_boundaries():
    assert percentile([5.0], 0) == percentile([5.0], 99) == 5.0
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0  # rank ceil(1.5) = 2
    # In floats 7 / 100 * 100 is 7.000000000000001 and 99.9 / 100 * 1000 is 999.0000000000001:
    # a naive ceil would take the next rank.
    assert percentile(ONE_TO_100, 7) == 7.0
    assert percentile(ONE_TO_100, 56) == 56.0
    assert percentile([float(i) for i in range(1, 1001)], 99.9) == 999.0
    assert percentile(range(1, 51), 99) == 50  # fewer than 100 values: p99 is the maximum


def test_empty_input_is_zero_and_a_bad_q_is_refused():
    assert percentile([], 99) == 0.0
    assert percentiles([], (50, 100)) == [0.0, 0.0]
    for q in (-1, 100.01, math.nan):
        with pytest.raises(ValueError, match="between 0 and 100"):
            percentile([1.0], q)
        with pytest.raises(ValueError, match="between 0 and 100"):
            percentile([], q)
    with pytest.raises(ValueError, match="at least one value"):
        rank(50, 0)


@given(values, qs)
def test_the_result_is_the_value_at_the_nearest_rank(sample, q):
    result = percentile(sample, q)
    ordered = sorted(sample)
    r = max(1, math.ceil(Fraction(str(q)) * len(sample) / 100))
    assert result == ordered[r - 1]
    # What nearest rank means: at least r values are <= the result, fewer than r are below it.
    assert sum(v <= result for v in sample) >= r
    assert sum(v < result for v in sample) < r


@given(values, integer_qs)
def test_integer_q_matches_exact_integer_arithmetic(sample, q):
    n = len(sample)
    r = max(1, -(-q * n // 100))  # ceil(q * n / 100) in integers
    assert percentile(sample, q) == sorted(sample)[r - 1]
    assert percentile(sample, float(q)) == percentile(sample, q)


@given(values, qs, qs)
def test_monotone_in_q(sample, q1, q2):
    low, high = sorted((q1, q2))
    assert percentile(sample, low) <= percentile(sample, high)


@given(values, qs, st.randoms(use_true_random=False))
def test_order_of_the_input_does_not_matter(sample, q, rng):
    shuffled = list(sample)
    rng.shuffle(shuffled)
    assert percentile(shuffled, q) == percentile(sample, q) == percentile_of_sorted(sorted(sample), q)


@given(values)
def test_p0_is_the_minimum_p100_the_maximum(sample):
    assert percentiles(sample, (0, 100)) == [min(sample), max(sample)]


def test_the_stats_document_uses_it():
    stats = RouteStats()
    stats.latencies_ms.extend(reversed(ONE_TO_100))
    latency = stats.summary()["latency_ms"]
    assert latency == {"p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
    assert RouteStats().summary()["latency_ms"] == {"p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}


def test_the_simulator_uses_it():
    from wsrelay.tools.simulate import metrics, model

    assert metrics.percentile is percentile and model.percentile is percentile
