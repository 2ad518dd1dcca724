"""The cost plot: each scenario's monthly cost against traffic, with the break-even points."""

from __future__ import annotations

import math
from itertools import combinations
from pathlib import Path

from wsrelay.cli.checks import CannotRun
from wsrelay.tools.cost import model
from wsrelay.tools.cost.inputs import Inputs
from wsrelay.tools.cost.sizing import Measured
from wsrelay.tools.prices import Prices

GRID_POINTS = 160
GRID_DECADES = (-1.0, 4.0)  # mean publishes/s from 0.1 to 10,000


def traffic_grid() -> list[float]:
    """Mean publishes/s on a logarithmic grid."""
    low, high = GRID_DECADES
    return [10 ** (low + (high - low) * k / (GRID_POINTS - 1)) for k in range(GRID_POINTS)]


def curves(inputs: Inputs, prices: Prices, figures: Measured) -> dict[str, list[float]]:
    """Total monthly cost of each scenario at every grid point (peak scaled with the mean)."""
    out: dict[str, list[float]] = {}
    for mean in traffic_grid():
        for result in model.run_all(inputs.with_traffic(mean), prices, figures):
            out.setdefault(result.name, []).append(result.total)
    return out


def break_evens(grid: list[float], costs: dict[str, list[float]]) -> list[tuple[str, str, float, float]]:
    """(scenario a, scenario b, publishes/s, USD) where a's cost first crosses b's."""
    found = []
    for a, b in combinations(costs, 2):
        diffs = [x - y for x, y in zip(costs[a], costs[b], strict=True)]
        for k in range(1, len(grid)):
            if diffs[k - 1] == 0 or diffs[k - 1] * diffs[k] < 0:
                d0, d1 = diffs[k - 1], diffs[k]
                t = 0.0 if d0 == d1 else d0 / (d0 - d1)
                x = math.exp(math.log(grid[k - 1]) + t * (math.log(grid[k]) - math.log(grid[k - 1])))
                y = costs[a][k - 1] + t * (costs[a][k] - costs[a][k - 1])
                found.append((a, b, x, y))
                break
    return found


def cost_against_traffic(inputs: Inputs, prices: Prices, figures: Measured, path: Path) -> None:
    """Write the plot to `path` (PNG; its folder was checked, never created); `CannotRun` if
    the file cannot be written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = traffic_grid()
    costs = curves(inputs, prices, figures)
    fig, (ax, diff) = plt.subplots(2, 1, figsize=(10, 9), sharex=True, height_ratios=(3, 2))
    for name, values in costs.items():
        ax.plot(grid, values, label=name, linewidth=1.8)
    for a, b, x, y in break_evens(grid, costs):
        ax.plot([x], [y], "ko", markersize=5)
        ax.annotate(
            f"{a} = {b}\n{x:.3g}/s, ${y:,.0f}",
            (x, y),
            textcoords="offset points",
            xytext=(6, -18),
            fontsize=7,
        )
    # The items every scenario shares (DynamoDB, logs, requests) dominate the totals at high
    # traffic; the lower panel shows what each deployment adds over all-on-demand.
    reference = costs.get("ondemand")
    if reference is not None:
        for name, values in costs.items():
            diff.plot(
                grid, [v - r for v, r in zip(values, reference, strict=True)], label=name, linewidth=1.5
            )
        diff.axhline(0, color="black", linewidth=0.8)
        diff.set_yscale("symlog", linthresh=10)
        diff.set_ylabel("USD per month above all on demand")
        diff.grid(True, which="both", alpha=0.3)
    for axis in (ax, diff):
        axis.axvline(inputs.mean_publishes_per_s, color="grey", linestyle=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    diff.set_xlabel(
        f"mean results published per second (peak scaled alike; dotted: {inputs.mean_publishes_per_s:g}/s)"
    )
    ax.set_ylabel("USD per month")
    ax.set_title(f"wsrelay monthly cost by deployment ({prices.region}, {inputs.instance_type})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=100, format="png")
    except OSError as error:
        raise CannotRun(f"--plot {path}: cannot write: {error.strerror or error}") from None
    finally:
        plt.close(fig)
