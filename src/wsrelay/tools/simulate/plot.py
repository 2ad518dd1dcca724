"""The simulation's plot (``--plot FILE.png``): one image per scenario, one panel per quantity
over time (queue depth, connected workers, relay throttles and failures, job latency), one line per
(compute, relay) pair of the first seed; the scenario's event window shaded in every panel. A
sample in which no job was delivered has no latency: a gap in the line, never 0 s."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from wsrelay.cli.checks import CannotRun
from wsrelay.tools.simulate.metrics import Series

PANELS = (  # (Series attribute, title, y axis)
    ("queue_depth", "jobs waiting in the queue", "jobs"),
    ("connected_workers", "compile workers running with their socket connected", "workers"),
    ("throttles", "relay invocations throttled or failed per sample", "invocations"),
    ("latency_p99_s", "p99 latency of the jobs delivered in the sample (gap: none delivered)", "seconds"),
)
STYLES = {"legacy": ":", "wsrelay router": "-", "wsrelay stored": "--"}
COLOURS = {"ondemand": "tab:orange", "provisioned": "tab:blue", "managed": "tab:green"}
Line = tuple[str, str, Series]  # (compute, relay label, series)


def _values(series: Series, attribute: str) -> list[float]:
    return [math.nan if v is None else float(v) for v in getattr(series, attribute)]


def figure(scenario: str, runs: list[Line], window: tuple[float, float] | None = None) -> Any:
    """A matplotlib figure of `PANELS`, stacked, sharing the time axis (minutes)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(PANELS), 1, figsize=(10, 2.9 * len(PANELS)), sharex=True)
    for ax, (attribute, title, unit) in zip(axes, PANELS, strict=True):
        if window is not None:
            ax.axvspan(window[0] / 60, window[1] / 60, color="0.85", zorder=0, label="event")
        for compute, relay, series in runs:
            ax.plot(
                [t / 60 for t in series.t],
                _values(series, attribute),
                STYLES.get(relay, "-"),
                color=COLOURS.get(compute),
                label=f"{compute} / {relay}",
                linewidth=1.2,
            )
        ax.set_ylabel(unit)
        ax.set_title(title, fontsize=10)
        ax.grid(True, alpha=0.3)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=8, ncols=5, loc="upper center", bbox_to_anchor=(0.5, 0.975))
    axes[-1].set_xlabel("minutes")
    fig.suptitle(f"wsrelay simulate: {scenario}", y=0.995)
    fig.tight_layout(rect=(0, 0, 1, 0.95))  # room for the legend above the panels
    return fig


def write(path: Path, scenario: str, runs: list[Line], window: tuple[float, float] | None = None) -> None:
    """The figure as one PNG at `path` (its folder was checked, never created); `CannotRun` if
    the file cannot be written."""
    import matplotlib.pyplot as plt

    fig = figure(scenario, runs, window)
    try:
        fig.savefig(path, dpi=90, format="png")
    except OSError as error:
        raise CannotRun(f"--plot {path}: cannot write: {error.strerror or error}") from None
    finally:
        plt.close(fig)
