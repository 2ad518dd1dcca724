"""The end of `wsrelay loadtest` and `wsrelay loadtest-merge` alike: the tables, ``--json``,
``--plot`` and the verdict that is the exit status (0 passed; 1 something lost, unacked or
corrupted, or p99 over ``--max-p99-ms``).

The tables and the verdict go to stdout, or to stderr when ``--json -`` puts the JSON there;
every file written is named on stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wsrelay.cli.checks import FAILED, OK, CannotRun
from wsrelay.cli.output import console, write_json, wrote
from wsrelay.tools.loadtest.report import render


def verdict(report: dict[str, Any], max_p99_ms: float | None) -> list[str]:
    """Why the run failed (empty when it passed)."""
    problems = [f"{report[key]} {key}" for key in ("lost", "unacked", "corrupted") if report[key]]
    if max_p99_ms is not None and report["p99_ms"] > max_p99_ms:
        problems.append(f"p99 {report['p99_ms']:.1f} ms > --max-p99-ms {max_p99_ms:g}")
    return problems


def conclude(
    command: str,
    report: dict[str, Any],
    json_path: Path | None,
    plot_path: Path | None,
    max_p99_ms: float | None,
) -> int:
    """Show, write and judge a finished (or merged) run of `command`; its exit status."""
    screen = console(json_path)
    render(report, screen)
    write_json(command, json_path, report)
    if plot_path is not None:
        from wsrelay.tools.loadtest.plot import plot

        try:
            plot(report, plot_path)
        except OSError as error:  # the folder went away during the run, the disk is full
            raise CannotRun(f"--plot {plot_path}: cannot write: {error.strerror or error}") from None
        wrote(command, plot_path)
    problems = verdict(report, max_p99_ms)
    if problems:
        screen.print(f"FAILED: {', '.join(problems)}", style="bold red", highlight=False)
        return FAILED
    screen.print("PASSED: nothing lost, every job acked", style="bold green", highlight=False)
    return OK
