"""The ``wsrelay`` command itself: help imports no tool library (rich, simpy, matplotlib,
hdrhistogram: only running a tool does), a tool without its extra names the extra, and a reader
that goes away (``wsrelay cost | head -1``) ends it quietly."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.processes

PROBE = """
import sys
from wsrelay.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
heavy = ("rich", "simpy", "matplotlib", "hdrh", "websockets")
print(sorted({m.split(".")[0] for m in sys.modules if m.startswith(heavy)}))
"""


def loaded(*argv: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "argv", [["--help"], ["serve", "--help"], ["cost", "--help"], ["loadtest", "--help"]]
)
def test_help_loads_no_tool_library(argv):
    assert loaded(*argv) == "[]"


def test_a_closed_pipe_ends_quietly(entry="from wsrelay.cli.main import entry; sys.exit(entry())"):
    with subprocess.Popen(
        [sys.executable, "-c", f"import sys; {entry}", "cost", "--json", "-"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()  # the reader is gone before the first line (imports take longer)
        error = proc.stderr.read().decode()
        assert proc.wait(60) in (0, 1)
    assert "Traceback" not in error


BLOCKED = """
import sys
class Blocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"hdrh", "simpy", "matplotlib"}:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Blocker())
from wsrelay.cli.main import entry
sys.exit(entry())
"""


def test_a_tool_without_its_extra_says_which_extra_in_one_line():
    for argv, extra in (
        (["loadtest", "ws://127.0.0.1:9/x"], "tools"),
        (["simulate", "--scenario", "steady"], "sim"),
        (["cost", "--plot", "/tmp/never-written.png"], "sim"),
    ):
        result = subprocess.run(
            [sys.executable, "-c", BLOCKED, *argv], capture_output=True, text=True, timeout=60
        )
        assert result.returncode == 3, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and f"needs the '{extra}' extra" in lines[0], result.stderr
