"""``--plot FILE.png``: delivery latency per second (p50 and p99), sent / delivered / acked per
second, and the latency distribution, in one figure (`figure` builds it, `plot` writes it).

What the over-time panels show, so that an operator can read them (docs/verification.md):
- every second of the run is a point: a second with no delivery is a zero in the counts (a dip)
  and a gap in the latency lines, never a line drawn across it; seconds between runs that did
  not overlap (``loadtest-merge``) are gaps in every line;
- the partial first and last seconds of a run are left out of the counts panel (they would pass
  for stalls);
- the fault window, when the local stack reports one, is shaded.

matplotlib is imported here only, with the Agg backend (no display needed), so runs without
``--plot`` never pay for it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wsrelay.tools.loadtest.report import latencies_of

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

NAN = float("nan")


def timeline(report: dict[str, Any], key: str, *, full_only: bool = False) -> tuple[list[int], list[float]]:
    """(t, value) of `key` for every second from the first to the last: NaN where the value is
    missing (no sample, or a second outside every run), or the second partial and `full_only`."""
    rows = {row["t"]: row for row in report.get("per_second", [])}
    if not rows:
        return [], []
    ts = list(range(min(rows), max(rows) + 1))
    values = []
    for t in ts:
        row = rows.get(t)
        value = None if row is None or (full_only and row["partial"]) else row[key]
        values.append(NAN if value is None else float(value))
    return ts, values


def fault_window(report: dict[str, Any]) -> tuple[float, float] | None:
    """The server's fault window in the report's ``t`` (seconds after ``floor(started_at)``)."""
    server = report.get("server") or {}
    window = server.get("fault_window_s")
    if not window or server.get("started_at") is None:
        return None
    t0 = math.floor(report["started_at"])
    return server["started_at"] + window[0] - t0, server["started_at"] + window[1] - t0


def figure(report: dict[str, Any]) -> Figure:
    """The three panels of `report`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    result, (over_time, counts, distribution) = plt.subplots(3, 1, figsize=(10, 12))
    counts.sharex(over_time)  # the two time panels share their seconds
    result.suptitle(f"wsrelay loadtest {report.get('url', '')}")
    window = fault_window(report)

    for key, label in (("deliver_p50_ms", "p50"), ("deliver_p99_ms", "p99")):
        ts, values = timeline(report, key)
        over_time.plot(ts, values, label=label, marker=".", markersize=3)
    over_time.set(title="publish -> deliver latency per second", xlabel="s", ylabel="ms")
    if any(not math.isnan(v) and v > 0 for v in timeline(report, "deliver_p99_ms")[1]):
        over_time.set_yscale("log")

    for name, label in (
        ("deliver", "publish -> deliver"),
        ("ack", "publish -> ack"),
        ("lag", "generator lag"),
    ):
        curve = latencies_of(report)[name].percentile_curve()
        points = [(1.0 / (1.0 - p / 100.0), ms) for p, ms in curve if p < 100.0]
        if points:
            distribution.plot([x for x, _ in points], [ms for _, ms in points], label=label)
    distribution.set_xscale("log")
    distribution.set_yscale("log")
    ticks = [1, 2, 10, 100, 1000, 10000]
    distribution.set_xticks(ticks, ["0%", "50%", "90%", "99%", "99.9%", "99.99%"])
    distribution.set(title="latency distribution", xlabel="percentile", ylabel="ms")
    distribution.legend()

    for key in ("sent", "delivered", "acked"):
        ts, values = timeline(report, key, full_only=True)
        counts.plot(ts, values, label=key, marker=".", markersize=3)
    counts.set(
        title="per wall-clock second (partial first and last seconds left out)", xlabel="s", ylabel="jobs"
    )

    for axes in (over_time, counts):
        _shade(axes, window)
        axes.legend()
    result.tight_layout()
    return result


def _shade(axes: Axes, window: tuple[float, float] | None) -> None:
    if window is not None:
        axes.axvspan(window[0], window[1], color="tab:red", alpha=0.12, label="fault window")


def plot(report: dict[str, Any], path: Path) -> None:
    """Write `figure(report)` to `path`, a PNG image (OSError if it cannot)."""
    import matplotlib.pyplot as plt

    drawn = figure(report)
    try:
        drawn.savefig(path, dpi=100, format="png")
    finally:
        plt.close(drawn)
