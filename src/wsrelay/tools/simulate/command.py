"""``wsrelay simulate``: run a scenario for every compute mode and relay semantics and report how
many jobs were delivered, timed out or lost, their p99 latency and the relay's cost."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from functools import partial
from pathlib import Path
from typing import Any

from wsrelay.cli.checks import UsageError
from wsrelay.tools.simulate.parameters import COMPUTE_MODES, FIELDS, RELAYS, SimConfig
from wsrelay.tools.simulate.scenarios import NAMES

HELP = "simulate routers, queue, workers and the relay (each compute mode x legacy/wsrelay) for a scenario"
OPERATIONS = ("subscribe", "publish", "ack", "unsubscribe", "onconnect")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's flags; every assumption is also a flag (see `FIELDS`)."""
    parser.add_argument("--scenario", choices=NAMES, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, metavar="FILE", help='write {"runs": [...]} to FILE')
    parser.add_argument("--plot", type=Path, metavar="DIR", help="write the time-series plots to DIR")
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML file of assumptions (flags win)")
    parser.add_argument("--measured", type=Path, metavar="FILE", help="handler figures (default: shipped)")
    group = parser.add_argument_group("assumptions (also TOML keys of the same name with underscores)")
    for f in dataclasses.fields(SimConfig):
        kind = type(f.default)
        group.add_argument(
            _flag(f.name),
            type=kind,
            default=argparse.SUPPRESS,
            help=f"{FIELDS[f.name]} (default: {f.default})",
        )


def _config(args: argparse.Namespace) -> SimConfig:
    from wsrelay.cli.checks import load_toml
    from wsrelay.tools.simulate import parameters as config_module

    values: dict[str, Any] = {}
    if args.config is not None:
        values.update(load_toml(args.config))
    values.update(
        {f.name: getattr(args, f.name) for f in dataclasses.fields(SimConfig) if hasattr(args, f.name)}
    )
    return config_module.from_mapping(values)


def cpu_seconds(path: Path | None) -> dict[str, float]:
    from wsrelay.tools.measured import load_measured

    data = load_measured(path)
    operations = data.get("operations")
    wanted = (*OPERATIONS, "ondisconnect")
    if not isinstance(operations, dict) or not all(op in operations for op in wanted):
        where = path or "the shipped measured.json"
        raise UsageError(f"{where} has no per-operation handler figures (run benchmarks/handler_cpu.py)")
    return {op: float(operations[op]["cpu_ms_median"]) / 1000 for op in wanted}


def run(args: argparse.Namespace) -> int:
    """Validate, run the six combinations with a progress bar, print, write JSON and plots."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from wsrelay.tools.prices import PriceError, load
    from wsrelay.tools.simulate import model
    from wsrelay.tools.simulate.scenarios import Scenario

    try:
        config = _config(args)
        cpu = cpu_seconds(args.measured)
        prices = load(config.region)
        prices.instance(config.instance_type)
        if args.json is not None and args.json.is_dir():
            raise UsageError(f"--json {args.json}: is a directory, expected a file")
        if args.plot is not None and args.plot.exists() and not args.plot.is_dir():
            raise UsageError(f"--plot {args.plot}: is a file, expected a directory")
    except (UsageError, PriceError) as error:
        print(f"wsrelay simulate: error: {error}", file=sys.stderr)
        return 2
    duration = Scenario(args.scenario, config).duration
    pairs = [(mode, relay) for mode in COMPUTE_MODES for relay in RELAYS]
    results = []
    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"))
    with Progress(
        *columns, TimeElapsedColumn(), console=console, transient=not console.is_terminal
    ) as progress:
        task = progress.add_task(f"{args.scenario}", total=duration * len(pairs))
        for i, (mode, relay) in enumerate(pairs):
            progress.update(task, description=f"{args.scenario}: {mode} / {relay}")
            base = i * duration
            result = model.run(
                config,
                args.scenario,
                mode,
                relay,
                args.seed,
                cpu,
                prices,
                partial(_advance, progress, task, base),
            )
            results.append(result)
    rows = [r.summary for r in results]
    _print(args.scenario, args.seed, duration, rows)
    doc = {"scenario": args.scenario, "seed": args.seed, "duration_s": duration, "runs": rows}
    try:
        if args.json is not None:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(doc, indent=2) + "\n")
        if args.plot is not None:
            from wsrelay.tools.simulate import plot

            series = [(r.summary["compute"], r.summary["relay"], r.series) for r in results]
            for path in plot.write(args.plot, args.scenario, series):
                print(f"wrote {path}")
    except OSError as error:
        print(f"wsrelay simulate: error: cannot write output: {error.strerror or error}", file=sys.stderr)
        return 2
    return 0


def _advance(progress: Any, task: Any, base: float, now: float) -> None:
    progress.update(task, completed=base + now)


def _print(scenario: str, seed: int, duration: float, rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{scenario}, seed {seed}, {duration / 60:g} simulated minutes")
    columns = (
        "compute", "relay", "jobs", "delivered", "timed_out", "lost", "in_flight", "p99_latency_s",
        "relay_throttles", "relay_failures", "max_queue_depth", "max_workers", "relay_cost_usd",
    )  # fmt: skip
    for name in columns:
        table.add_column(name.replace("_", " "), justify="left" if name in ("compute", "relay") else "right")
    for row in rows:
        table.add_row(*(str(row[name]) for name in columns))
    console = Console()
    if not console.is_terminal:
        console.width = 170
    console.print(table)
