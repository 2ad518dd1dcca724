"""The table `wsrelay simulate` prints: one row per (compute mode, relay) pair, figures rounded to
what the model can tell (shares to 0.1 percentage point, counts to whole jobs, latency to 0.1 s),
at most 120 columns wide. With several seeds, the delivered share carries its 95% interval and
each compute mode's difference from the best one of the same relay is marked ``~`` when it lies
within the seed variance."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from wsrelay.tools.simulate.runs import label_of

MAX_WIDTH = 120
# (header, summary key, decimals): the columns after compute and relay
COLUMNS = (
    ("jobs", "jobs", 0),
    ("timed\nout", "timed_out", 0),
    ("lost", "lost", 0),
    ("p99\ns", "p99_latency_s", 1),
    ("relay\nthrottled", "relay_throttles", 0),
    ("cold\nstarts", "cold_starts", 0),
    ("worker\nresends", "worker_resends", 0),
    ("give-\nups", "worker_give_ups", 0),
    ("workers\nfailed", "worker_failures", 0),
)
WITHIN = "~"


def _number(value: float, digits: int) -> str:
    return f"{value:,.{digits}f}"


def delivered_cell(summary: dict[str, Any]) -> str:
    """The delivered share: ``99.9`` with one seed, ``99.9 ±0.2`` with several."""
    share = summary["delivered_pct"]
    text = f"{share['mean']:.1f}"
    if share["low"] is not None:
        text += f" ±{(share['high'] - share['low']) / 2:.1f}"
    return text


def versus_cell(summary: dict[str, Any]) -> str:
    """Percentage points against the best compute mode of the same relay; ``best`` for it,
    ``~`` after a difference within the seed variance."""
    if summary["compute"] == summary["best_compute"]:
        return "best"
    difference = summary["vs_best_pp"]["mean"]
    text = "0.0" if abs(difference) < 0.05 else f"{difference:+.1f}"  # no sign on what rounds to 0
    return f"{text} {WITHIN}" if summary["within_seed_variance"] else text


def cell(summary: dict[str, Any], key: str, digits: int) -> str:
    """A figure's mean over the seeds, rounded to `digits`; ``-`` when it has no value."""
    figure = summary[key]
    if figure is None:
        return "-"  # no sample (no job delivered: no latency)
    return _number(figure["mean"], digits)


def title(scenario: str, seeds: Sequence[int], duration: float, window: tuple[float, float] | None) -> str:
    """The table's title: scenario, seeds, simulated time and the event window."""
    which = f"seed {seeds[0]}" if len(seeds) == 1 else f"seeds {seeds[0]}-{seeds[-1]} (mean)"
    text = f"{scenario}, {which}, {duration / 60:g} simulated minutes"
    if window is not None:
        text += f"; event from minute {window[0] / 60:g} to {window[1] / 60:g}"
    return text


def caption(seeds: Sequence[int]) -> str:
    """What the marks mean."""
    if len(seeds) == 1:
        return (
            "vs best: delivered share against the best compute mode of the same relay (percentage "
            "points). One seed: no interval; run --seeds N to tell differences from seed noise."
        )
    return (
        f"delivered %: mean ± half the 95% interval over {len(seeds)} seeds; vs best: percentage "
        f"points against the best compute mode of the same relay; {WITHIN}: within the seed "
        "variance (the per-seed difference's 95% interval includes 0)."
    )


def table(summaries: Sequence[dict[str, Any]], heading: str, seeds: Sequence[int]) -> Any:
    """A rich Table of the pairs."""
    from rich import box
    from rich.table import Table

    grid = Table(
        title=heading, caption=caption(seeds), box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True
    )
    grid.add_column("compute", no_wrap=True)
    grid.add_column("relay", no_wrap=True)
    grid.add_column("delivered\n%", justify="right", no_wrap=True)
    grid.add_column("vs best\npp", justify="right", no_wrap=True)
    for header, _, _ in COLUMNS:
        grid.add_column(header, justify="right", no_wrap=True)
    for s in summaries:
        cells = [cell(s, key, digits) for _, key, digits in COLUMNS]
        relay = label_of(s["relay"], s["publisher_ack"])
        grid.add_row(s["compute"], relay, delivered_cell(s), versus_cell(s), *cells)
    return grid


def render(summaries: Sequence[dict[str, Any]], heading: str, seeds: Sequence[int]) -> list[str]:
    """The table as text lines (what a 120-column terminal shows)."""
    from rich.console import Console

    console = Console(width=MAX_WIDTH, file=io.StringIO(), color_system=None)
    console.print(table(summaries, heading, seeds))
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue().splitlines()
