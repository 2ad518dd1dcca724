"""Latency histograms in one fixed HdrHistogram configuration, so merges are exact.

Values are microseconds from 1 us to 1 hour at 3 significant digits. A value outside that range
is clamped to its edge and counted in `clamped`: it still counts toward every percentile (as the
edge value) instead of vanishing, and the report says how many were clamped.
"""

from __future__ import annotations

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_FIGURES = 3
CONFIG = {"lowest_us": LOWEST_US, "highest_us": HIGHEST_US, "significant_figures": SIGNIFICANT_FIGURES}
PERCENTILES = (("p50_ms", 50.0), ("p90_ms", 90.0), ("p99_ms", 99.0), ("p999_ms", 99.9))


class HistogramError(ValueError):
    """An encoded histogram that cannot be decoded or has another configuration."""


class Latency:
    """One latency distribution: record seconds, read milliseconds, encode, merge."""

    def __init__(self, histogram: HdrHistogram | None = None, clamped: int = 0) -> None:
        self.histogram = histogram or HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES)
        self.clamped = clamped

    def record(self, seconds: float) -> None:
        """Record a latency given in seconds (clamped into range, never dropped)."""
        micros = round(seconds * 1_000_000)
        if micros < LOWEST_US:
            micros, self.clamped = LOWEST_US, self.clamped + 1
        elif micros > HIGHEST_US:
            micros, self.clamped = HIGHEST_US, self.clamped + 1
        self.histogram.record_value(micros)

    @property
    def count(self) -> int:
        """Values recorded."""
        return int(self.histogram.get_total_count())

    def percentile_ms(self, percentile: float) -> float:
        """The value at `percentile` (0..100), in milliseconds; 0 when empty."""
        if self.count == 0:
            return 0.0
        return float(self.histogram.get_value_at_percentile(percentile)) / 1000.0

    def max_ms(self) -> float:
        """The largest value recorded (at the histogram's precision), in milliseconds."""
        return float(self.histogram.get_max_value()) / 1000.0 if self.count else 0.0

    def summary(self) -> dict[str, float | int]:
        """count, p50/p90/p99/p99.9 and max in milliseconds, and the clamped count."""
        summary: dict[str, float | int] = {"count": self.count}
        for name, percentile in PERCENTILES:
            summary[name] = round(self.percentile_ms(percentile), 3)
        summary["max_ms"] = round(self.max_ms(), 3)
        summary["clamped"] = self.clamped
        return summary

    def encode(self) -> str:
        """HdrHistogram's compressed, base64 encoding (what other HdrHistogram tools read)."""
        return self.histogram.encode().decode("ascii")

    @classmethod
    def decode(cls, encoded: str, clamped: int = 0) -> Latency:
        """The histogram `encode` wrote; `HistogramError` if unreadable or of another range."""
        try:
            histogram = HdrHistogram.decode(encoded.encode("ascii"))
        except Exception as error:  # hdrh raises assorted errors on bad input
            raise HistogramError(f"unreadable histogram: {error}") from error
        found = (
            histogram.lowest_trackable_value,
            histogram.highest_trackable_value,
            histogram.significant_figures,
        )
        if found != (LOWEST_US, HIGHEST_US, SIGNIFICANT_FIGURES):
            raise HistogramError(f"histogram range {found} differs from {tuple(CONFIG.values())}")
        return cls(histogram, clamped)

    def add(self, other: Latency) -> None:
        """Add `other`'s counts to this one (exact: both share the configuration)."""
        self.histogram.add(other.histogram)
        self.clamped += other.clamped

    def percentile_curve(self) -> list[tuple[float, float]]:
        """(percentile, ms) points of the distribution, for plotting."""
        if self.count == 0:
            return []
        return [
            (float(item.percentile_level_iterated_to), float(item.value_iterated_to) / 1000.0)
            for item in self.histogram.get_percentile_iterator(5)
        ]
