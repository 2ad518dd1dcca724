"""The simulation's plots: queue depth, workers, relay throttles and job latency over time, one
line per (compute, relay) pair, one PNG per quantity."""

from __future__ import annotations

from pathlib import Path

from wsrelay.tools.simulate.metrics import Series

PANELS = (
    ("queue-depth", "queue_depth", "jobs waiting in the queue"),
    ("workers", "workers", "compile workers running"),
    ("throttles", "throttles", "relay invocations throttled or failed per sample"),
    ("latency", "latency_p99_s", "p99 job latency of the sample (s)"),
)
STYLES = {"legacy": "--", "wsrelay": "-"}
COLOURS = {"ondemand": "tab:orange", "provisioned": "tab:blue", "managed": "tab:green"}


def write(directory: Path, scenario: str, runs: list[tuple[str, str, Series]]) -> list[Path]:
    """One PNG per quantity in `directory`; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for slug, attribute, label in PANELS:
        fig, ax = plt.subplots(figsize=(10, 4.5))
        for compute, relay, series in runs:
            minutes = [t / 60 for t in series.t]
            ax.plot(
                minutes,
                getattr(series, attribute),
                STYLES.get(relay, "-"),
                color=COLOURS.get(compute),
                label=f"{compute} / {relay}",
                linewidth=1.3,
            )
        ax.set_xlabel("minutes")
        ax.set_ylabel(label)
        ax.set_title(f"{scenario}: {label}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, ncols=3)
        fig.tight_layout()
        path = directory / f"{scenario}-{slug}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths
