"""The cost model's results as the reader needs them first: a one-line headline (the cheapest
deployment, and LMI against the legacy deployment), then a row per scenario with its difference
from legacy, as a rich table, Markdown (the terminal renderings) or a JSON document
(``--json``)."""

from __future__ import annotations

from typing import Any

from wsrelay.tools.cost.model import ITEMS, SHARED, Result

LABELS = {
    "instances": "instances",
    "management_fee": "LMI fee",
    "requests": "requests",
    "duration": "duration",
    "provisioned_concurrency": "prov. conc.",
    "egress": "egress",
    "dynamodb": "DynamoDB",
    "websocket_messages": "WS msgs",
    "websocket_connection_minutes": "WS conn-min",
    "logs": "logs",
    "metrics": "metrics",
}
LEGACY = "legacy"
LMI = "lmi-all"  # the plan's recommendation: the LMI scenario the headline names


def vs_legacy(results: list[Result]) -> dict[str, tuple[float, float]]:
    """Each scenario's total against the legacy deployment's: (USD a month more, ratio)."""
    base = next(r.total for r in results if r.name == LEGACY)
    return {r.name: (r.total - base, r.total / base if base else float("inf")) for r in results}


def shared_usd(results: list[Result]) -> float:
    """What every scenario bills alike (the `SHARED` items), USD a month."""
    return sum(results[0].items[k] for k in SHARED)


def cheapest(results: list[Result]) -> Result:
    """The scenario with the lowest total (the first of equals)."""
    return min(results, key=lambda r: r.total)


def headline(results: list[Result], mean_jobs_per_s: float) -> str:
    """One line: the cheapest deployment, and LMI (all three functions) against legacy."""
    best = cheapest(results)
    by_name = {r.name: r for r in results}
    more, ratio = vs_legacy(results)[LMI]
    return (
        f"At {mean_jobs_per_s:g} jobs/s the cheapest deployment is {best.name} "
        f"(${best.total:,.0f} a month); {LMI} costs ${by_name[LMI].total:,.0f}, "
        f"{_signed(more)} a month against {LEGACY}'s ${by_name[LEGACY].total:,.0f} ({ratio:.2f}x)."
    )


def _signed(usd: float) -> str:
    return f"{'+' if usd >= 0 else '-'}${abs(usd):,.0f}"


def _vs_text(name: str, comparison: dict[str, tuple[float, float]]) -> str:
    more, ratio = comparison[name]
    return "" if name == LEGACY else f"{more:+.0f} ({ratio:.2f}x)"


def document(results: list[Result], line: str, extra: dict[str, Any]) -> dict[str, Any]:
    """``{"headline", "cheapest", "scenarios": [{"name", "total_usd_month", "vs_legacy_usd",
    "vs_legacy_ratio", "items", "sizing"}], "shared_usd_month", ...extra}``."""
    comparison = vs_legacy(results)
    return {
        "headline": line,
        "cheapest": cheapest(results).name,
        "scenarios": [
            {
                "name": r.name,
                "description": r.description,
                "total_usd_month": round(r.total, 2),
                "vs_legacy_usd": round(comparison[r.name][0], 2),
                "vs_legacy_ratio": round(comparison[r.name][1], 4),
                "items": {k: round(v, 2) for k, v in r.items.items()},
                "sizing": r.sizing,
            }
            for r in results
        ],
        "shared_usd_month": round(shared_usd(results), 2),
        **extra,
    }


def _sizing_text(result: Result) -> str:
    s = result.sizing
    if not s:
        return ""
    envs = ", ".join(f"{k} {v}" for k, v in s["environments"].items())  # type: ignore[attr-defined]
    return f"{s['instances']} x {s['instance_type']} ({envs} environments; egress {s['egress']})"


def as_markdown(results: list[Result], line: str, notes: list[str], warnings: list[str]) -> str:
    """The headline, then a Markdown table (one row per scenario, one column per item, USD a
    month, the total and its difference from legacy); then the notes and the warnings."""
    comparison = vs_legacy(results)
    head = "| scenario | " + " | ".join(LABELS[k] for k in ITEMS) + " | **total** | vs legacy | LMI sizing |"
    rule = "|---" * (len(ITEMS) + 4) + "|"
    rows = [
        f"| {r.name} | "
        + " | ".join(f"{r.items[k]:.2f}" for k in ITEMS)
        + f" | **{r.total:.2f}** | {_vs_text(r.name, comparison)} | {_sizing_text(r)} |"
        for r in results
    ]
    lines = [f"**{line}**", "", head, rule, *rows]
    if notes:
        lines += ["", *(f"- {note}" for note in notes)]
    if warnings:
        lines += ["", *(f"> warning: {warning}" for warning in warnings)]
    return "\n".join(lines) + "\n"


def print_table(
    console: Any, results: list[Result], line: str, notes: list[str], warnings: list[str]
) -> None:
    """The headline, a rich table on `console` (`wsrelay.cli.output.console`), then the LMI
    sizing, the notes and the warnings."""
    from rich import box
    from rich.table import Table

    comparison = vs_legacy(results)
    console.print(line, style="bold")
    # No vertical rules: fourteen columns fit a 160-column pipe without wrapping a header.
    table = Table(title="Monthly cost (USD)", show_footer=False, box=box.SIMPLE_HEAD, collapse_padding=True)
    table.add_column("scenario", no_wrap=True)
    for key in ITEMS:
        table.add_column(LABELS[key], justify="right", no_wrap=True)
    table.add_column("total", justify="right", style="bold", no_wrap=True)
    table.add_column("vs legacy", justify="right", no_wrap=True)
    for r in results:
        table.add_row(
            r.name, *(f"{r.items[k]:.2f}" for k in ITEMS), f"{r.total:.2f}", _vs_text(r.name, comparison)
        )
    console.print(table)
    for r in results:
        if r.sizing:
            console.print(f"{r.name}: {_sizing_text(r)}")
    for note in notes:
        console.print(note, style="dim")
    for warning in warnings:
        console.print(f"warning: {warning}", style="yellow")
