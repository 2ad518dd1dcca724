"""``--plot FILE.png``: latency over time, the latency distribution and throughput, in one figure.

matplotlib is imported here only, with the Agg backend (no display needed), so runs without
``--plot`` never pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wsrelay.tools.loadtest.report import latencies_of


def plot(report: dict[str, Any], path: Path) -> None:
    """Write the three panels of `report` to `path`, a PNG image (OSError if it cannot)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (over_time, distribution, throughput) = plt.subplots(3, 1, figsize=(10, 12))
    figure.suptitle(f"wsrelay loadtest {report.get('url', '')}")
    per_second = report.get("latency_per_s", {})
    start = min((int(s) for s in report.get("throughput_per_s", {}) or per_second), default=0)

    seconds = [int(s) - start for s in per_second]
    over_time.plot(seconds, [v[1] / v[0] for v in per_second.values()], label="mean")
    over_time.plot(seconds, [v[2] for v in per_second.values()], label="max", alpha=0.7)
    over_time.set(title="publish -> deliver latency per second", xlabel="s", ylabel="ms")
    over_time.legend()

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

    for key, label in (("throughput_per_s", "delivered/s"), ("acks_per_s", "acked/s")):
        series = report.get(key, {})
        throughput.plot([int(s) - start for s in series], list(series.values()), label=label)
    throughput.set(title="throughput per wall-clock second", xlabel="s", ylabel="jobs/s")
    throughput.legend()

    figure.tight_layout()
    try:
        figure.savefig(path, dpi=100, format="png")
    finally:
        plt.close(figure)
