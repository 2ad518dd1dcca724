"""``wsrelay cost``: what each deployment of the relay costs a month, from prices on file and
handler figures measured by benchmarks/handler_cpu.py (flags from `Inputs` and `CostRun`)."""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from wsrelay.cli import options
from wsrelay.cli.checks import check_output
from wsrelay.cli.command import Command, add_config, add_json, add_plot
from wsrelay.tools.cost.inputs import CostRun, Inputs

NAME = "cost"
DESCRIPTION = """\
Monthly cost of each deployment of the relay (legacy provisioned concurrency, LMI for all three
functions or sendmessage only, all on demand, and a custom one given by --functions), item by
item, from a prices file with a source on every row and the handler figures measured by
benchmarks/handler_cpu.py.

The headline comes first: the cheapest deployment, and LMI against the legacy deployment. The
table (or Markdown, --format markdown) goes to stdout; with --json - it goes to stderr and stdout
holds only the JSON. The defaults are Compiler Explorer's (2.9 jobs/s, its VPC's public subnets);
docs/cost.md gives every input's source and how much each assumption moves the answer."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Files, output, and every `Inputs` field (also a TOML key of ``--config``)."""
    add_config(parser, "the inputs below")
    options.add_arguments(parser, CostRun)
    add_json(parser, '{"headline", "cheapest", "scenarios": [...], "notes", "warnings", "figures", "inputs"}')
    add_plot(parser, "each scenario's cost against traffic, Compiler Explorer's traffic marked,")
    group = parser.add_argument_group("inputs (each also a TOML key: the flag's name with _)")
    options.add_arguments(group, Inputs)


def run(args: argparse.Namespace) -> int:
    """Check every path, compute, render, write the JSON and the plot."""
    check_output(args.json, "--json")
    check_output(args.plot, "--plot", ".png")
    settings = options.build(CostRun, args)
    inputs = options.build(Inputs, args, args.config)

    from wsrelay.cli.output import console, report_stream, write_json, wrote
    from wsrelay.tools import prices
    from wsrelay.tools.cost import model, notes, report, sizing
    from wsrelay.tools.measured import read_measured

    if args.plot is not None:
        import matplotlib  # noqa: F401 - a missing 'sim' extra is found before any work

    table = prices.load(inputs.region, settings.prices)
    figures = sizing.measured(inputs, read_measured(settings.measured))
    results = model.run_all(inputs, table, figures)
    warnings = model.warnings(inputs, figures)
    line = report.headline(results, inputs.mean_jobs_per_s)
    remarks = notes.all_notes(inputs, table, figures, results)
    if settings.format == "markdown":
        text = report.as_markdown(results, line, remarks, warnings)
        print(text, end="", file=report_stream(args.json), flush=True)
    else:
        report.print_table(console(args.json), results, line, remarks, warnings)
    if args.json is not None:
        extra: dict[str, Any] = {
            "notes": remarks,
            "warnings": warnings,
            "figures": dataclasses.asdict(figures),
            "inputs": inputs.as_dict(),
        }
        write_json(NAME, args.json, report.document(results, line, extra))
    if args.plot is not None:
        from wsrelay.tools.cost import plot

        plot.cost_against_traffic(inputs, table, figures, args.plot)
        wrote(NAME, args.plot)
    return 0


COMMAND = Command(
    name=NAME,
    summary="monthly cost of each deployment (provisioned, LMI, on demand) from prices and measured figures",
    description=DESCRIPTION,
    add_arguments=add_arguments,
    run=run,
    extra="sim",
)
