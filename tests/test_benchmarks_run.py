"""The benchmark scripts still run (tiny parameters; their figures are not asserted here:
performance is measured by running them, see docs/benchmarks.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
BARE = BENCH.parents[1] / "shared" / "bench" / "bare_relay.py"


def run(script: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_round_trips():
    out = run("round_trips.py")
    assert "UpdateItem" in out and "Scan" in out


def test_fanout():
    out = run("fanout.py", "--repeats", "1", "--latency-ms", "1")
    assert "100 / 1" in out and "target" in out


def test_init_cost():
    out = run("init_cost.py", "--runs", "1")
    assert "ratio" in out


@pytest.mark.skipif(not BARE.exists(), reason=f"reference relay not found at {BARE}")
def test_local_stack():
    out = run("local_stack.py", "--rounds", "1", "--seconds", "0.5", "--skip-lmi", "--pairs", "2")
    assert "wsrelay inprocess" in out and "gateway only" in out and "CPU us/cycle" in out
