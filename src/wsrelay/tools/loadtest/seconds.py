"""The per-second series of a load test: what was sent, delivered and acked in each wall-clock
second, and the delivery latency's p50 and p99 in it, from one HdrHistogram per second.

Seconds are wall-clock (``int(time.time())``), so series from several generators or machines add
up second by second (clocks synchronized by NTP), and the per-second histograms merge exactly,
as the whole run's do. ``sent`` is counted by send time; ``delivered``, ``acked`` and the
latencies by delivery time. In the report, ``t`` is the second minus ``floor(started_at)`` of
the report (merged or not).

Every second of a run is in the series, zeros included, so a stall shows as a dip instead of
being skipped; a second with no delivery has no percentile (``null``), and the plot draws no line
across it. The first and last seconds of a run are partial (the run started or ended inside
them): they are marked ``"partial": true`` and left out of rates, so they cannot pass for stalls.

Only the current second's histogram is live; a finished second is kept encoded (a few dozen
bytes), so a long run holds little memory.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from wsrelay.tools.loadtest.histograms import Latency


@dataclass(slots=True)
class Counts:
    """One second's counts."""

    sent: int = 0
    delivered: int = 0
    acked: int = 0


class Intervals:
    """The per-second counts and delivery histograms one generator records."""

    def __init__(self) -> None:
        self.counts: dict[int, Counts] = {}
        self.encoded: dict[int, str] = {}  # finished seconds' delivery histograms
        self._second: int | None = None  # the live histogram's second
        self._live = Latency()

    def _counts(self, now: float) -> Counts:
        second = int(now)
        counts = self.counts.get(second)
        if counts is None:
            counts = self.counts[second] = Counts()
        return counts

    def sent(self, now: float) -> None:
        """A job was sent at `now` (epoch seconds)."""
        self._counts(now).sent += 1

    def acked(self, now: float) -> None:
        """An ack arrived at `now`."""
        self._counts(now).acked += 1

    def delivered(self, now: float, latency_s: float) -> None:
        """A result arrived at `now`, `latency_s` after its intended publish time."""
        self._counts(now).delivered += 1
        second = int(now)
        if second != self._second:
            self._roll(second)
        self._live.record(latency_s)

    def _roll(self, second: int) -> None:
        self._flush()
        self._second = second
        earlier = self.encoded.pop(second, None)  # the clock stepped back into a second
        self._live = Latency.decode(earlier) if earlier is not None else Latency()

    def _flush(self) -> None:
        if self._second is not None and self._live.count:
            self.encoded[self._second] = self._live.encode()

    def histograms(self) -> dict[int, str]:
        """Every second's encoded delivery histogram (the live one included)."""
        self._flush()
        return dict(sorted(self.encoded.items()))


@dataclass(frozen=True, slots=True)
class Span:
    """A run's time: from `started_at` to `ended_at`, epoch seconds."""

    started_at: float
    ended_at: float

    def seconds(self) -> range:
        return range(math.floor(self.started_at), math.floor(self.ended_at) + 1)

    def partial(self) -> set[int]:
        """The seconds the run starts or ends inside of."""
        return {math.floor(edge) for edge in (self.started_at, self.ended_at) if edge != math.floor(edge)} | {
            math.floor(self.ended_at)
        }


def series(
    counts: dict[int, Counts], histograms: dict[int, Latency], spans: Sequence[Span], t0: int
) -> list[dict[str, Any]]:
    """The report's ``per_second`` list: every second of every span (and any second with a
    count), in order, ``t`` relative to `t0`."""
    seconds = {second for span in spans for second in span.seconds()} | set(counts)
    partial = {second for span in spans for second in span.partial()}
    rows = []
    for second in sorted(seconds):
        count = counts.get(second, Counts())
        latency = histograms.get(second)
        has = latency is not None and latency.count > 0
        rows.append(
            {
                "t": second - t0,
                "sent": count.sent,
                "delivered": count.delivered,
                "acked": count.acked,
                "deliver_p50_ms": round(latency.percentile_ms(50.0), 3) if has and latency else None,
                "deliver_p99_ms": round(latency.percentile_ms(99.0), 3) if has and latency else None,
                "partial": second in partial,
            }
        )
    return rows


def stalled(rows: Sequence[dict[str, Any]]) -> list[int]:
    """The full seconds in which nothing was delivered although jobs were pending."""
    pending = 0
    stalls = []
    for row in rows:
        pending += row["sent"]
        if not row["partial"] and row["delivered"] == 0 and pending > 0:
            stalls.append(row["t"])
        pending -= row["delivered"]
    return stalls


def encode(histograms: dict[int, Latency]) -> dict[str, str]:
    """The report's ``deliver_histograms_per_s``: epoch second -> encoded histogram."""
    return {str(second): latency.encode() for second, latency in sorted(histograms.items()) if latency.count}


def from_report(report: dict[str, Any]) -> tuple[dict[int, Counts], dict[int, Latency]]:
    """A report's per-second counts and histograms, by epoch second."""
    t0 = math.floor(report["started_at"])
    counts = {
        t0 + int(row["t"]): Counts(int(row["sent"]), int(row["delivered"]), int(row["acked"]))
        for row in report["per_second"]
    }
    histograms = {
        int(second): Latency.decode(text) for second, text in report["deliver_histograms_per_s"].items()
    }
    return counts, histograms


def merge(reports: Iterable[dict[str, Any]]) -> tuple[dict[int, Counts], dict[int, Latency]]:
    """Several reports' per-second counts and histograms added second by second (exact)."""
    counts: dict[int, Counts] = {}
    histograms: dict[int, Latency] = {}
    for report in reports:
        one_counts, one_histograms = from_report(report)
        for second, count in one_counts.items():
            total = counts.setdefault(second, Counts())
            total.sent += count.sent
            total.delivered += count.delivered
            total.acked += count.acked
        for second, latency in one_histograms.items():
            if second in histograms:
                histograms[second].add(latency)
            else:
                histograms[second] = latency
    return counts, histograms


def union(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """Overlapping intervals joined: the disjoint spans they cover, in order."""
    joined: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if joined and start <= joined[-1][1]:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined
