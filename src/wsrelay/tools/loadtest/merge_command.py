"""``wsrelay loadtest-merge A.json B.json ... --json OUT [--plot F.png]``: one report of runs made
on several machines (counts added, histograms merged exactly, per-second series added)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from wsrelay.cli.checks import check_output
from wsrelay.tools.loadtest.command import conclude
from wsrelay.tools.loadtest.histograms import HistogramError
from wsrelay.tools.loadtest.report import ReportError, merge_reports

HELP = "merge wsrelay loadtest --json reports from several machines into one"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``wsrelay loadtest-merge``."""
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json", help="loadtest --json files")
    parser.add_argument(
        "--json", type=Path, required=True, metavar="OUT", help="write the merged report here"
    )
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="plot of the merged report")
    parser.add_argument("--max-p99-ms", type=float, help="exit 1 if the merged p99 exceeds this")


def run(args: argparse.Namespace) -> int:
    """Merge; 0 when the merged run passed, 1 when it lost something, 2 for bad input."""
    try:
        check_output(args.json, "--json")
        check_output(args.plot, "--plot")
        reports = []
        for path in args.reports:
            try:
                reports.append(json.loads(path.read_text()))
            except (OSError, ValueError) as error:
                raise ReportError(f"{path}: {error}") from None
        try:
            merged = merge_reports(reports)
        except (ReportError, HistogramError) as error:
            raise ReportError(f"{_which(args.reports, reports)}: {error}") from None
    except (ValueError, ReportError) as error:
        print(f"wsrelay loadtest-merge: error: {error}", file=sys.stderr)
        return 2
    return conclude(merged, args.json, args.plot, args.max_p99_ms)


def _which(paths: list[Path], reports: list[object]) -> str:
    """The first file that does not merge (checked one by one, for the message)."""
    for path, report in zip(paths, reports, strict=True):
        try:
            merge_reports([report])  # type: ignore[list-item]
        except (ReportError, HistogramError):
            return str(path)
    return ", ".join(map(str, paths))
