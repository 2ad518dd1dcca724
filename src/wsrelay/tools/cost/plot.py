"""The cost plot: each scenario's monthly cost against traffic on log-log axes, Compiler
Explorer's traffic marked, the break-even points, and (lower panel) what each deployment adds
over what every scenario bills alike, with LMI under the assumptions that move it most."""

from __future__ import annotations

import dataclasses
import math
from itertools import combinations
from pathlib import Path
from typing import Any

from wsrelay.cli.checks import CannotRun
from wsrelay.tools.cost import defaults, model
from wsrelay.tools.cost.inputs import Inputs
from wsrelay.tools.cost.sizing import Measured
from wsrelay.tools.cost.values import PerFunction
from wsrelay.tools.prices import Prices

GRID_POINTS = 160
GRID_DECADES = (-1.0, 3.0)  # mean jobs/s from 0.1 to 1,000: Compiler Explorer's traffic x 300
VARIANT_STYLES = ("--", "-.", ":", (0, (6, 2, 1, 2, 1, 2)))
LMI = "lmi-all"


def traffic_grid() -> list[float]:
    """Mean jobs/s on a logarithmic grid."""
    low, high = GRID_DECADES
    return [10 ** (low + (high - low) * k / (GRID_POINTS - 1)) for k in range(GRID_POINTS)]


def curves(inputs: Inputs, prices: Prices, figures: Measured) -> dict[str, list[float]]:
    """Total monthly cost of each scenario at every grid point (the peak factor holds)."""
    out: dict[str, list[float]] = {}
    for mean in traffic_grid():
        for result in model.run_all(inputs.with_traffic(mean), prices, figures):
            out.setdefault(result.name, []).append(result.total)
    return out


def variants(inputs: Inputs) -> dict[str, Inputs]:
    """LMI under the assumptions that move its cost most, each changed alone from `inputs`
    (labels name the change; one that equals `inputs` is left out)."""
    options = {
        "egress nat, 3 NAT gateways": dataclasses.replace(inputs, egress="nat", nat_gateways=3),
        "egress public (1 IPv4 per instance)": dataclasses.replace(inputs, egress="public"),
        "MinExecutionEnvironments 1 per function": dataclasses.replace(
            inputs, min_environments=PerFunction.every(1)
        ),
        "40% Savings Plan": dataclasses.replace(inputs, savings_plan=0.4),
    }
    return {label: changed for label, changed in options.items() if changed != inputs}


def own_cost(results: list[model.Result], name: str) -> float:
    """What scenario `name` bills besides the items every scenario shares (USD a month)."""
    r = next(r for r in results if r.name == name)
    return sum(v for k, v in r.items.items() if k not in model.SHARED)


def break_evens(grid: list[float], costs: dict[str, list[float]]) -> list[tuple[str, str, float, float]]:
    """(scenario a, scenario b, jobs/s, USD) where a's cost first crosses b's."""
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


def _own_curves(inputs: Inputs, prices: Prices, figures: Measured) -> dict[str, list[float]]:
    """Each scenario's own cost, then LMI's under each variant, at every grid point."""
    out: dict[str, list[float]] = {}
    alternatives = variants(inputs)
    for mean in traffic_grid():
        results = model.run_all(inputs.with_traffic(mean), prices, figures)
        for r in results:
            out.setdefault(r.name, []).append(own_cost(results, r.name))
        for label, changed in alternatives.items():
            scenario = model.scenarios(changed)[1]  # lmi-all
            result = model.evaluate(changed.with_traffic(mean), prices, figures, scenario)
            out.setdefault(f"{LMI}, {label}", []).append(own_cost([result], LMI))
    return out


def _money(value: float, _position: object = None) -> str:
    return f"${value:,.0f}" if value >= 1 else f"${value:.2g}"


def _rate(value: float, _position: object = None) -> str:
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _assumptions(inputs: Inputs) -> str:
    minimums = sorted({n for _, n in inputs.min_environments})
    egress = "public (1 IPv4 per instance)" if inputs.egress == "public" else f"nat x{inputs.nat_gateways}"
    return (
        f"solid lines: egress {egress}; MinExecutionEnvironments "
        f"{'/'.join(map(str, minimums))} per function; Savings Plan {inputs.savings_plan:.0%}; "
        f"{inputs.instance_type}, {inputs.managed_memory_mb} MB at {inputs.memory_gib_per_vcpu} GiB/vCPU; "
        f"peak {inputs.peak_factor:g}x the mean"
    )


def _style(axis: Any, ylabel: str) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.xaxis.set_major_formatter(FuncFormatter(_rate))
    axis.yaxis.set_major_formatter(FuncFormatter(_money))
    axis.set_ylabel(ylabel)
    axis.grid(True, which="major", alpha=0.4)
    axis.grid(True, which="minor", alpha=0.12)


def cost_against_traffic(inputs: Inputs, prices: Prices, figures: Measured, path: Path) -> None:
    """Write the plot to `path` (PNG; its folder was checked, never created); `CannotRun` if
    the file cannot be written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = traffic_grid()
    costs = curves(inputs, prices, figures)
    own = _own_curves(inputs, prices, figures)
    fig, (ax, low) = plt.subplots(2, 1, figsize=(11, 10), sharex=True, height_ratios=(1, 1))
    colors = {name: f"C{k}" for k, name in enumerate(costs)}
    for name, values in costs.items():
        ax.plot(grid, values, label=name, color=colors[name], linewidth=1.8)
    # Break-evens are the same in both panels (the shared items cancel): dots, and a list.
    crossings = break_evens(grid, costs)
    for _a, _b, x, y in crossings:
        ax.plot([x], [y], "ko", markersize=4)
    listed = "\n".join(f"{a} = {b} at {x:,.3g} jobs/s" for a, b, x, _y in crossings) or "none in range"
    low.text(0.99, 0.02, "break-even points:\n" + listed, transform=low.transAxes, fontsize=7,
             ha="right", va="bottom", bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})  # fmt: skip
    styles = iter(VARIANT_STYLES)
    for name, values in own.items():
        variant = name not in costs
        low.plot(
            grid,
            [max(v, 0.01) for v in values],
            label=name if variant else None,
            color=colors[LMI] if variant else colors[name],
            linestyle=next(styles) if variant else "-",
            linewidth=1.3 if variant else 1.8,
        )
    # Compiler Explorer's traffic, and each scenario's cost there.
    at = inputs.mean_jobs_per_s
    here = model.run_all(inputs, prices, figures)
    for axis in (ax, low):
        axis.axvline(at, color="black", linestyle=":", linewidth=1.2)
    source = "Compiler Explorer, 2025" if at == defaults.MEAN_JOBS_PER_S else "given"
    ax.annotate(
        f"{at:g} jobs/s\n({source})", (at, 1), xycoords=("data", "axes fraction"),
        xytext=(4, -28), textcoords="offset points", fontsize=8,
    )  # fmt: skip
    for r in here:
        mine = own_cost(here, r.name)
        low.annotate(f"{r.name} {_money(mine)}", (at, max(mine, 0.01)), xytext=(5, 3),
                     textcoords="offset points", fontsize=7.5, color=colors[r.name],
                     bbox={"facecolor": "white", "alpha": 0.7, "linewidth": 0, "pad": 1})  # fmt: skip
    _style(ax, "total, USD a month")
    _style(low, "USD a month besides what every scenario shares")
    ax.set_title(
        f"wsrelay monthly cost by deployment ({prices.region}); shared by all: requests, DynamoDB, "
        "WebSocket messages and minutes, logs, metrics",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="upper left")
    low.legend(title=f"dashed: {LMI}, one assumption changed", fontsize=7, title_fontsize=7, loc="upper left")
    low.set_xlabel("mean jobs per second (log); the peak is the mean x the peak factor")
    fig.text(0.01, 0.005, _assumptions(inputs), fontsize=7.5)
    fig.tight_layout(rect=(0, 0.02, 1, 1))
    try:
        fig.savefig(path, dpi=100, format="png")
    except OSError as error:
        raise CannotRun(f"--plot {path}: cannot write: {error.strerror or error}") from None
    finally:
        plt.close(fig)
