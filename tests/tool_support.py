"""Running `wsrelay` subcommands as child processes, as a user runs them (for tests that need a
real run, not just a flag check: see cli_support for those)."""

from __future__ import annotations

import subprocess
import sys

SMOKE_STEPS = 12  # the steps `wsrelay smoke` runs


def wsrelay(*args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``wsrelay ARGS`` in a child process: its exit status, stdout and stderr."""
    command = [sys.executable, "-m", "wsrelay.cli", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def loadtest(*args: str, tool: str = "loadtest", timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """``wsrelay loadtest ARGS`` (or `tool`, e.g. ``loadtest-merge``)."""
    return wsrelay(tool, *args, timeout=timeout)


def smoke(*args: str) -> subprocess.CompletedProcess[str]:
    """``wsrelay smoke ARGS``."""
    return wsrelay("smoke", *args, timeout=60)


def serve_once(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``wsrelay serve --port 0 ARGS`` that is expected to exit by itself (a start-up failure)."""
    return wsrelay("serve", "--port", "0", *args, timeout=timeout)
