"""The cost model's results as a rich table, Markdown (the terminal renderings) or a JSON
document (``--json``)."""

from __future__ import annotations

from typing import Any

from wsrelay.tools.cost.model import ITEMS, Result

LABELS = {
    "instances": "instances",
    "management_fee": "LMI fee",
    "requests": "requests",
    "duration": "duration",
    "provisioned_concurrency": "prov. conc.",
    "nat_egress": "NAT+egress",
    "dynamodb": "DynamoDB",
    "logs": "logs",
    "metrics": "metrics",
}


def document(results: list[Result], extra: dict[str, Any]) -> dict[str, Any]:
    """``{"scenarios": [{"name", "total_usd_month", "items", "sizing"}], ...extra}``."""
    return {
        "scenarios": [
            {
                "name": r.name,
                "description": r.description,
                "total_usd_month": round(r.total, 2),
                "items": {k: round(v, 2) for k, v in r.items.items()},
                "sizing": r.sizing,
            }
            for r in results
        ],
        **extra,
    }


def _sizing_text(result: Result) -> str:
    s = result.sizing
    if not s:
        return ""
    envs = ", ".join(f"{k} {v}" for k, v in s["environments"].items())  # type: ignore[attr-defined]
    return f"{s['instances']} x {s['instance_type']} ({envs} environments)"


def as_markdown(results: list[Result], warnings: list[str]) -> str:
    """A Markdown table: one row per scenario, one column per item, USD a month; then the
    warnings as quotes."""
    head = "| scenario | " + " | ".join(LABELS[k] for k in ITEMS) + " | **total** | LMI sizing |"
    rule = "|---" * (len(ITEMS) + 3) + "|"
    rows = [
        f"| {r.name} | "
        + " | ".join(f"{r.items[k]:.2f}" for k in ITEMS)
        + f" | **{r.total:.2f}** | {_sizing_text(r)} |"
        for r in results
    ]
    quotes = [f"\n> warning: {warning}" for warning in warnings]
    return "\n".join([head, rule, *rows, *quotes]) + "\n"


def print_table(console: Any, results: list[Result], notes: list[str], warnings: list[str]) -> None:
    """A rich table on `console` (`wsrelay.cli.output.console`), then the notes and warnings."""
    from rich.table import Table

    table = Table(title="Monthly cost (USD)", show_footer=False)
    table.add_column("scenario")
    for key in ITEMS:
        table.add_column(LABELS[key], justify="right")
    table.add_column("total", justify="right", style="bold")
    for r in results:
        table.add_row(r.name, *(f"{r.items[k]:.2f}" for k in ITEMS), f"{r.total:.2f}")
    console.print(table)
    for r in results:
        if r.sizing:
            console.print(f"{r.name}: {_sizing_text(r)}")
    for note in notes:
        console.print(note, style="dim")
    for warning in warnings:
        console.print(f"warning: {warning}", style="yellow")
