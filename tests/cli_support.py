"""Running `wsrelay` in the test's own process, for checks of its flags."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout

from wsrelay.cli.main import main


def cli(*args: str) -> tuple[int, str, str]:
    """`wsrelay ARGS` in this process: exit status, stdout, stderr (for flag checks: no run)."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()
