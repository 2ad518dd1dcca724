"""Where a subcommand's output goes, the same way in every tool.

- ``--json FILE`` writes the result as JSON; ``--json -`` writes it to stdout, and then stdout
  holds only the JSON: tables and progress go to stderr (`report_stream`).
- Every file written is named on stderr (``wsrelay cost: wrote cost.png``).
- Tables rendered to a file or a pipe get a fixed, wide console, so titles never wrap mid-phrase.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Any

from wsrelay.cli.checks import CannotRun

PIPE_WIDTH = 160  # columns of a table written to a file or a pipe


def json_to_stdout(path: Path | None) -> bool:
    """True when ``--json -`` asks for the JSON on stdout."""
    return path is not None and str(path) == "-"


def report_stream(json_path: Path | None) -> IO[str]:
    """Where tables and progress go: stderr when stdout carries the JSON, else stdout."""
    return sys.stderr if json_to_stdout(json_path) else sys.stdout


def console(json_path: Path | None = None, *, stderr: bool = False) -> Any:
    """A rich Console for tables, on `report_stream`; fixed width when not a terminal."""
    from rich.console import Console

    stream = sys.stderr if stderr else report_stream(json_path)
    terminal = stream.isatty()
    return Console(file=stream, width=None if terminal else PIPE_WIDTH, soft_wrap=not terminal)


def wrote(command: str, path: Path) -> None:
    """Name a file the command wrote, on stderr."""
    print(f"wsrelay {command}: wrote {path}", file=sys.stderr, flush=True)


def write_json(command: str, path: Path | None, document: Any) -> None:
    """`document` as JSON to `path` (``-``: stdout); `CannotRun` if the file cannot be written."""
    if path is None:
        return
    text = json.dumps(document, indent=2, sort_keys=False) + "\n"
    if json_to_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise CannotRun(f"--json {path}: cannot write: {error.strerror or error}") from None
    wrote(command, path)
