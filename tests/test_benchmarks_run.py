"""The benchmark scripts still run (tiny parameters; their figures are not asserted here:
performance is measured by running them, see docs/benchmarks.md), and the local stack's
reference relay speaks the protocol the benchmark's client checks."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.bench, pytest.mark.processes]

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def run(script: str, *args: str, status: int = 0) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, str(BENCH / script), *args], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == status, result.stderr
    return result


def test_round_trips():
    out = run("round_trips.py").stdout
    assert "UpdateItem" in out and "Scan" in out
    assert re.search(r"^target wsrelay: one call per guid operation.*: met$", out, re.M), out


def test_fanout():
    out = run("fanout.py", "--repeats", "1", "--latency-ms", "1").stdout
    assert "100 / 1" in out
    assert re.search(r"^target wsrelay 100/1 <= 10x \(measured [\d.]+x\): (met|MISSED)$", out, re.M), out


def test_init_cost():
    out = run("init_cost.py", "--runs", "1").stdout
    assert "ratio" in out
    assert re.search(r"^target wsrelay init <= 1.20x the baseline .*: (met|MISSED)$", out, re.M), out


def test_local_stack():
    args = ("--rounds", "1", "--seconds", "0.5", "--skip-lmi", "--pairs", "2", "--dashboard")
    out = run("local_stack.py", *args).stdout
    names = ("reference relay", "wsrelay inprocess", "gateway only (dict handler)")
    names += ("inprocess --dashboard, no page", "inprocess --dashboard, 1 stream")
    rows = {name: re.search(rf"{re.escape(name)} +│ +(\d+) ", out) for name in names}
    assert all(rows.values()), out
    assert all(int(row.group(1)) > 0 for row in rows.values() if row)  # every server completed cycles
    assert "CPU us/cycle" in out
    assert len(re.findall(r"^target inprocess .*: (met|MISSED)$", out, re.M)) == 2, out
    assert len(re.findall(r"^target --dashboard, .*: (met|MISSED)$", out, re.M)) == 2, out
    assert re.search(r"^the stream client read \d+ KiB in [1-9]\d* batches$", out, re.M), out


def test_local_stack_refuses_bad_flags():
    result = run("local_stack.py", "--pairs", "0", status=2)
    assert "--pairs" in result.stderr and "must be above 0" in result.stderr


def test_churn_recovery():
    args = ["--rate", "50", "--duration", "3", "--window", "1:2", "--settle", "0.5", "--modes", "stored"]
    out = run("churn_recovery.py", *args).stdout
    assert "ack wait p50 / p99 ms" in out
    verdicts = re.findall(r"^target (churn|recovery) \(stored\) .*: (met|MISSED)$", out, re.M)
    assert len(verdicts) == 5, out


def test_capacity_benchmark_runs():
    command = [
        sys.executable,
        str(BENCH / "loadgen_capacity.py"),
        "--duration",
        "0.5",
        "--rates",
        "50",
        "--repeats",
        "1",
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "capacity jobs/s" in done.stdout and "bar output" in done.stdout


def test_soak_benchmark_runs(tmp_path):
    command = [sys.executable, str(BENCH / "soak.py"), "--rate", "20", "--duration", "3", "--ttl", "1"]
    done = subprocess.run(
        [*command, "--plot", str(tmp_path / "soak.png")], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "RSS growth after 2 TTLs" in done.stdout and (tmp_path / "soak.png").exists()
