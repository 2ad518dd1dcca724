"""``wsrelay loadtest-merge A.json B.json ... [--json OUT] [--plot F.png]``: one report of runs
made on several machines (counts added, histograms merged exactly, per-second series merged by
wall-clock second, a run given twice refused), judged as `wsrelay loadtest` judges one run (the
same ``--max-p99-ms``).

Exit status: 0 the merged run passed; 1 it lost something or p99 exceeded the bound; 2 for bad
flags or a report that is missing ("no such file"), unreadable or not mergeable; 3 when an
output cannot be written; 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from wsrelay.cli import options
from wsrelay.cli.checks import UsageError, check_input, check_output
from wsrelay.cli.command import Command, add_json, add_plot
from wsrelay.tools.loadtest.settings import MergeSettings

DESCRIPTION = """\
Merge the --json reports of wsrelay loadtest runs made on several machines into one: counts
added, latency histograms merged exactly (the merged percentiles are those of all jobs together),
per-second series merged by wall-clock second. Runs that did not overlap stay apart in time (and
it says so); rates come from the time the runs cover. A run given twice is refused (each run
has an id). Machines need synchronized clocks (NTP).

Exit status: 0 the merged run passed, 1 it lost something or p99 exceeded --max-p99-ms, 2 usage
error (a report missing, unreadable or not mergeable), 3 an output cannot be written,
130 interrupted. With --json -, stdout holds the JSON only; the tables go to stderr."""

PNG = ".png"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The reports, every `MergeSettings` field, ``--json`` and ``--plot``."""
    parser.add_argument(
        "reports", nargs="+", type=Path, metavar="REPORT.json", help="wsrelay loadtest --json files"
    )
    options.add_arguments(parser, MergeSettings)
    add_json(parser, "the merged report")
    add_plot(parser, "latency over time, the latency distribution and throughput of the merged run")


def read_report(path: Path) -> Any:
    """One report file's JSON; `UsageError` naming the file."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{path}: cannot read: {error.strerror or error}") from None
    except ValueError as error:  # not UTF-8, not JSON
        raise UsageError(f"{path}: not JSON: {error}") from None


def run(args: argparse.Namespace) -> int:
    """Check the flags, outputs and inputs, then merge and conclude as loadtest does."""
    settings = options.build(MergeSettings, args)
    check_output(args.json, "--json")
    check_output(args.plot, "--plot", PNG)
    for path in args.reports:
        check_input(path, "report")
    from wsrelay.tools.loadtest.histograms import HistogramError
    from wsrelay.tools.loadtest.outcome import conclude
    from wsrelay.tools.loadtest.report import ReportError, merge_reports

    if args.plot is not None:
        import matplotlib  # noqa: F401

    reports = [read_report(path) for path in args.reports]
    _refuse_repeated_runs(args.reports, reports)
    try:
        merged = merge_reports(reports)
    except (ReportError, HistogramError) as error:
        raise UsageError(f"{_which(args.reports, reports)}: {error}") from None
    return conclude("loadtest-merge", merged, args.json, args.plot, settings.max_p99_ms)


def _refuse_repeated_runs(paths: list[Path], reports: list[Any]) -> None:
    """`UsageError` naming both files when a run is in two of them (or twice in one)."""
    seen: dict[str, Path] = {}
    for path, report in zip(paths, reports, strict=True):
        runs = report.get("runs") if isinstance(report, dict) else None
        for run in runs if isinstance(runs, list) else []:
            run_id = run.get("id") if isinstance(run, dict) else None
            if run_id is None:
                continue
            if run_id in seen:
                raise UsageError(f"{path}: run {run_id} is already in {seen[run_id]}: the same run twice")
            seen[run_id] = path


def _which(paths: list[Path], reports: list[Any]) -> str:
    """The first file that does not merge (checked one by one, for the message)."""
    from wsrelay.tools.loadtest.histograms import HistogramError
    from wsrelay.tools.loadtest.report import ReportError, merge_reports

    for path, report in zip(paths, reports, strict=True):
        try:
            merge_reports([report])
        except (ReportError, HistogramError):
            return str(path)
    return ", ".join(map(str, paths))


COMMAND = Command(
    name="loadtest-merge",
    summary="merge wsrelay loadtest --json reports from several machines into one",
    description=DESCRIPTION,
    add_arguments=add_arguments,
    run=run,
    extra="tools",
)
