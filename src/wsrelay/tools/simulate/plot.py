"""The simulation's plot (``--plot FILE.png``): one image, one panel per quantity over time
(queue depth, workers, relay throttles, job latency), one line per (compute, relay) pair."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wsrelay.cli.checks import CannotRun
from wsrelay.tools.simulate.metrics import Series

PANELS = (  # (Series attribute, title, y axis)
    ("queue_depth", "jobs waiting in the queue", "jobs"),
    ("workers", "compile workers running", "workers"),
    ("throttles", "relay invocations throttled or failed per sample", "invocations"),
    ("latency_p99_s", "p99 job latency of the sample", "seconds"),
)
STYLES = {"legacy": "--", "wsrelay": "-"}
COLOURS = {"ondemand": "tab:orange", "provisioned": "tab:blue", "managed": "tab:green"}


def figure(scenario: str, runs: list[tuple[str, str, Series]]) -> Any:
    """A matplotlib figure of `PANELS`, stacked, sharing the time axis (minutes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(PANELS), 1, figsize=(10, 3.2 * len(PANELS)), sharex=True)
    for ax, (attribute, title, unit) in zip(axes, PANELS, strict=True):
        for compute, relay, series in runs:
            ax.plot(
                [t / 60 for t in series.t],
                getattr(series, attribute),
                STYLES.get(relay, "-"),
                color=COLOURS.get(compute),
                label=f"{compute} / {relay}",
                linewidth=1.3,
            )
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8, ncols=3)
    axes[-1].set_xlabel("minutes")
    fig.suptitle(f"wsrelay simulate: {scenario}")
    fig.tight_layout()
    return fig


def write(path: Path, scenario: str, runs: list[tuple[str, str, Series]]) -> None:
    """The figure as one PNG at `path` (its folder was checked, never created); `CannotRun` if
    the file cannot be written."""
    import matplotlib.pyplot as plt

    fig = figure(scenario, runs)
    try:
        fig.savefig(path, dpi=100, format="png")
    except OSError as error:
        raise CannotRun(f"--plot {path}: cannot write: {error.strerror or error}") from None
    finally:
        plt.close(fig)
