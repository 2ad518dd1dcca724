"""Running `wsrelay` for checks of its flags: in the test's own process (`cli`, `exit_code`), or
in a child process, optionally with only the ``local`` extra importable (`wsrelay_run`)."""

from __future__ import annotations

import io
import subprocess
import sys
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


def exit_code(*argv: str) -> int:
    """`wsrelay ARGV` in this process: its exit status; what it prints stays on the test's
    stdout and stderr (for capsys)."""
    try:
        return main(list(argv))
    except SystemExit as exit_:  # argparse's own errors
        return int(exit_.code or 0)


# Blocks the 'sim' and 'tools' extras, as when only `make serve`'s 'local' extra is installed.
LOCAL_ONLY = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"hdrh", "simpy", "matplotlib"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Blocker())
from wsrelay.cli.main import entry
sys.exit(entry())
"""
ENTRY = "import sys; from wsrelay.cli.main import entry; sys.exit(entry())"


def wsrelay_run(*argv: str, local_only: bool = False) -> subprocess.CompletedProcess[str]:
    """`wsrelay ARGV` in a child process (with only the ``local`` extra importable if asked)."""
    code = LOCAL_ONLY if local_only else ENTRY
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120)
