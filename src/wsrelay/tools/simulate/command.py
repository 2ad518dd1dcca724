"""``wsrelay simulate``: run a scenario for every compute mode and relay (the legacy relay's model,
wsrelay with each publisher ack mode: nine pairs) over one or more seeds, and report how many
jobs were delivered, timed out or lost, and what it took (flags from `SimRun` and `SimConfig`)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from wsrelay.cli import options
from wsrelay.cli.checks import check_output
from wsrelay.cli.command import Command, add_config, add_json, add_plot
from wsrelay.tools.simulate.parameters import SimConfig, SimRun

NAME = "simulate"
DESCRIPTION = """\
A discrete-event simulation (SimPy) of the routers, the job queue, the compile workers and the
relay, run for one scenario under each compute mode (on demand, provisioned, LMI) with each
relay (the legacy Node relay's model; wsrelay's own code with publisher ack router and stored):
nine runs per seed, one table.

Progress goes to stderr, the table to stdout (to stderr with --json -, so that stdout holds only
the JSON). Ctrl-C stops it (exit 130). docs/capacity.md gives every assumption's source;
docs/decision.md what the runs answer."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run, its outputs, and every `SimConfig` assumption (also a TOML key of ``--config``)."""
    options.add_arguments(parser, SimRun)
    add_config(parser, "the assumptions below")
    add_json(parser, '{"scenario", "seeds", "duration_s", "assumptions", "runs": [...], "summary": [...]}')
    add_plot(parser, "queue depth, workers, relay throttles and job latency over time (one panel each)")
    group = parser.add_argument_group("assumptions (each also a TOML key: the flag's name with _)")
    options.add_arguments(group, SimConfig)


def run(args: argparse.Namespace) -> int:
    """Check every input and output, run the pairs for every seed, print, write JSON and the plot."""
    check_output(args.json, "--json")
    check_output(args.plot, "--plot", ".png")
    what = options.build(SimRun, args)
    config = options.build(SimConfig, args, args.config)

    from wsrelay.cli.output import console, write_json, wrote
    from wsrelay.tools import prices
    from wsrelay.tools.measured import operation_cpu_s, read_measured
    from wsrelay.tools.simulate.scenarios import Scenario

    scenario = Scenario(what.scenario, config)
    duration, window = scenario.duration, scenario.window()
    config.check_scenario(what.scenario, duration)
    where = str(what.measured) if what.measured else "the shipped measured.json"
    cpu = operation_cpu_s(read_measured(what.measured), where)
    table = prices.load(config.region, what.prices)
    prices.lmi_instance(table, config.instance_type, config.managed_memory_mb, config.memory_gib_per_vcpu)
    if args.plot is not None:
        import matplotlib  # noqa: F401 - a missing 'sim' extra is found before the runs

    from wsrelay.tools.simulate import report, runs

    seeds = runs.seeds_from(what.seed, what.seeds)
    with RunProgress(what.scenario, len(runs.PAIRS) * len(seeds), duration) as progress:
        results = runs.run_all(config, what.scenario, seeds, cpu, table, progress.start)
    doc = runs.document(what.scenario, seeds, duration, window, config, results)
    heading = report.title(what.scenario, seeds, duration, window)
    console(args.json).print(report.table(doc["summary"], heading, seeds))
    write_json(NAME, args.json, doc)
    if args.plot is not None:
        from wsrelay.tools.simulate import plot

        first = [r for r in results if r.summary["seed"] == seeds[0]]
        lines = [
            (r.summary["compute"], runs.label_of(r.summary["relay"], r.summary["publisher_ack"]), r.series)
            for r in first
        ]
        plot.write(args.plot, what.scenario, lines, window)
        wrote(NAME, args.plot)
    return 0


class RunProgress:
    """Progress on stderr: a rich bar on a terminal, else one line as each run starts (for a
    log, or a test that waits for the runs to start)."""

    def __init__(self, scenario: str, runs: int, duration: float) -> None:
        self.scenario = scenario
        self.runs = runs
        self.duration = duration
        self.bar: Any = None
        self.task: Any = None

    def __enter__(self) -> RunProgress:
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"))
            self.bar = Progress(*columns, TimeElapsedColumn(), console=Console(stderr=True))
            self.bar.start()
            self.task = self.bar.add_task(self.scenario, total=self.duration * self.runs)
        return self

    def start(self, i: int, label: str) -> Callable[[float], None] | None:
        """Run `i` (from 0) starts; the callback the model calls with the simulated time."""
        if self.bar is None:
            print(
                f"wsrelay {NAME}: {self.scenario} run {i + 1}/{self.runs}: {label}",
                file=sys.stderr,
                flush=True,
            )
            return None
        bar, task, base = self.bar, self.task, i * self.duration
        bar.update(task, description=f"{self.scenario}: {label}")
        return lambda now: bar.update(task, completed=base + now)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


COMMAND = Command(
    name=NAME,
    summary="simulate routers, queue, workers and the relay (each compute mode x relay) for a scenario",
    description=DESCRIPTION,
    add_arguments=add_arguments,
    run=run,
    extra="sim",
)
