"""``wsrelay simulate``: run a scenario for every compute mode and relay semantics and report how
many jobs were delivered, timed out or lost, their p99 latency and the relay's cost (flags from
`SimRun` and `SimConfig`)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from typing import Any

from wsrelay.cli import options
from wsrelay.cli.checks import check_output
from wsrelay.cli.command import Command, add_config, add_json, add_plot
from wsrelay.tools.simulate.parameters import COMPUTE_MODES, RELAYS, SimConfig, SimRun

NAME = "simulate"
DESCRIPTION = """\
A discrete-event simulation (SimPy) of the routers, the job queue, the compile workers and the
relay, run for one scenario under each compute mode (on demand, provisioned, LMI) with each
relay semantics (legacy, wsrelay): six runs, one table.

Progress goes to stderr, the table to stdout (to stderr with --json -, so that stdout holds only
the JSON). Ctrl-C stops it (exit 130). docs/capacity.md gives every assumption's source."""
COLUMNS = (
    "compute", "relay", "jobs", "delivered", "timed_out", "lost", "in_flight", "p99_latency_s",
    "relay_throttles", "relay_failures", "max_queue_depth", "max_workers", "relay_cost_usd",
)  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The run, its outputs, and every `SimConfig` assumption (also a TOML key of ``--config``)."""
    options.add_arguments(parser, SimRun)
    add_config(parser, "the assumptions below")
    add_json(parser, '{"scenario", "seed", "duration_s", "config", "runs": [...]}')
    add_plot(parser, "queue depth, workers, relay throttles and job latency over time (one panel each)")
    group = parser.add_argument_group("assumptions (each also a TOML key: the flag's name with _)")
    options.add_arguments(group, SimConfig)


def run(args: argparse.Namespace) -> int:
    """Check every input and output, run the six combinations, print, write JSON and the plot."""
    check_output(args.json, "--json")
    check_output(args.plot, "--plot", ".png")
    what = options.build(SimRun, args)
    config = options.build(SimConfig, args, args.config)

    from wsrelay.cli.output import console, write_json, wrote
    from wsrelay.tools import prices
    from wsrelay.tools.measured import operation_cpu_s, read_measured

    where = str(what.measured) if what.measured else "the shipped measured.json"
    cpu = operation_cpu_s(read_measured(what.measured), where)
    table = prices.load(config.region, what.prices)
    prices.lmi_instance(table, config.instance_type, config.managed_memory_mb, config.memory_gib_per_vcpu)
    if args.plot is not None:
        import matplotlib  # noqa: F401 - a missing 'sim' extra is found before the runs

    from wsrelay.tools.simulate import model
    from wsrelay.tools.simulate.scenarios import Scenario

    duration = Scenario(what.scenario, config).duration
    pairs = [(mode, relay) for mode in COMPUTE_MODES for relay in RELAYS]
    results = []
    with RunProgress(what.scenario, len(pairs), duration) as progress:
        for i, (mode, relay) in enumerate(pairs):
            advance = progress.start(i, f"{mode} / {relay}")
            results.append(model.run(config, what.scenario, mode, relay, what.seed, cpu, table, advance))
    rows = [r.summary for r in results]
    _print(console(args.json), what.scenario, what.seed, duration, rows)
    doc = {
        "scenario": what.scenario,
        "seed": what.seed,
        "duration_s": duration,
        "config": dataclasses.asdict(config),
        "runs": rows,
    }
    write_json(NAME, args.json, doc)
    if args.plot is not None:
        from wsrelay.tools.simulate import plot

        plot.write(
            args.plot, what.scenario, [(r.summary["compute"], r.summary["relay"], r.series) for r in results]
        )
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


def _print(out: Any, scenario: str, seed: int, duration: float, rows: list[dict[str, Any]]) -> None:
    from rich.table import Table

    table = Table(title=f"{scenario}, seed {seed}, {duration / 60:g} simulated minutes")
    for name in COLUMNS:
        table.add_column(name.replace("_", " "), justify="left" if name in ("compute", "relay") else "right")
    for row in rows:
        table.add_row(*(str(row[name]) for name in COLUMNS))
    out.print(table)


COMMAND = Command(
    name=NAME,
    summary="simulate routers, queue, workers and the relay (each compute mode x relay) for a scenario",
    description=DESCRIPTION,
    add_arguments=add_arguments,
    run=run,
    extra="sim",
)
