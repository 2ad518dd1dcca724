"""``wsrelay cost``: what each deployment of the relay costs a month, from prices on file and
handler figures measured by benchmarks/handler_cpu.py."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import Any

from wsrelay.cli.checks import UsageError, load_toml
from wsrelay.tools.cost import inputs as inputs_module
from wsrelay.tools.cost.inputs import FIELDS, Inputs

HELP = (
    "monthly cost of each deployment (provisioned, LMI, on demand) from prices on file and measured figures"
)
FORMATS = ("table", "json", "markdown")


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1", "on"):
        return True
    if lowered in ("false", "no", "0", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's flags: files, output and one flag per input (see `FIELDS`)."""
    parser.add_argument("--config", type=Path, metavar="FILE", help="TOML file of inputs (flags win)")
    parser.add_argument("--prices", type=Path, metavar="FILE", help="prices file (default: the shipped one)")
    parser.add_argument("--measured", type=Path, metavar="FILE", help="measured figures (default: shipped)")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="cost of each scenario against traffic")
    group = parser.add_argument_group("inputs (also TOML keys of the same name with underscores)")
    defaults = {f.name: f.default for f in dataclasses.fields(Inputs)}
    for name, text in FIELDS.items():
        default = defaults.get(name)
        kind: Any = str
        if isinstance(default, bool):
            kind = _boolean
        elif isinstance(default, int):
            kind = int
        elif isinstance(default, float) or default is None:
            kind = float
        # a help text that names its own default says it once
        said = name == "functions" or "(default:" in text
        shown = "" if said else f" (default: {_shown(name, default)})"
        if name == "functions":
            group.add_argument(_flag(name), action="append", default=argparse.SUPPRESS, help=text)
        else:
            group.add_argument(_flag(name), type=kind, default=argparse.SUPPRESS, help=text + shown)


def _shown(name: str, default: Any) -> str:
    if name in ("profile", "result_sizes"):
        return ",".join(f"{a:g}:{b:g}" for a, b in default) or "mean to peak over an hour"
    return str(default)


def _inputs(args: argparse.Namespace) -> Inputs:
    values: dict[str, Any] = {}
    if args.config is not None:
        values.update(load_toml(args.config))
    for name in FIELDS:
        if not hasattr(args, name):
            continue
        value = getattr(args, name)
        if name == "functions":
            value = dict(inputs_module.parse_function(spec) for spec in value)
            values[name] = {k: dataclasses.asdict(v) for k, v in value.items()}
        elif name in ("profile", "result_sizes"):
            values[name] = [list(p) for p in inputs_module.parse_pairs(value, name)]
        else:
            values[name] = value
    return inputs_module.validate(inputs_module.from_mapping(values))


def run(args: argparse.Namespace) -> int:
    """Compute, print in the chosen format, and plot if asked; 2 with one line on bad input."""
    from wsrelay.tools import prices
    from wsrelay.tools.cost import model, report, sizing
    from wsrelay.tools.measured import load_measured

    try:
        if args.plot is not None and (args.plot.is_dir() or args.plot.suffix.lower() != ".png"):
            raise UsageError(f"--plot {args.plot}: expected a FILE.png")
        inputs = _inputs(args)
        table = prices.load(inputs.region, args.prices)
        data = load_measured(args.measured) if args.measured else None
        if args.measured is not None and not data:
            raise UsageError(f"--measured {args.measured}: not a measured-figures JSON file")
        figures = sizing.measured(inputs, data)
        results = model.run_all(inputs, table, figures)
        warnings = model.warnings(inputs, figures)
        if args.plot is not None:
            from wsrelay.tools.cost import plot

            plot.cost_against_traffic(inputs, table, figures, args.plot)
    except (UsageError, prices.PriceError) as error:
        print(f"wsrelay cost: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"wsrelay cost: error: cannot write {args.plot}: {error.strerror or error}", file=sys.stderr)
        return 2
    notes = [
        f"prices: {table.region}, {len(table.rows)} items and {len(table.instances)} instance types on file; "
        f"handler figures: {figures.cpu_ms:.2f} ms CPU, {figures.rss_mib:.0f} MiB per process, "
        f"{figures.log_bytes:.0f} log bytes per invocation ({figures.source})"
    ]
    if args.format == "json":
        extra = {"warnings": warnings, "figures": dataclasses.asdict(figures), "inputs": _jsonable(inputs)}
        print(report.as_json(results, extra))
    elif args.format == "markdown":
        print(report.as_markdown(results), end="")
        for warning in warnings:
            print(f"\n> warning: {warning}")
    else:
        report.print_table(results, notes, warnings)
    for warning in warnings if args.format == "json" else []:
        print(f"wsrelay cost: warning: {warning}", file=sys.stderr)
    return 0


def _jsonable(inputs: Inputs) -> dict[str, Any]:
    return dataclasses.asdict(inputs)
