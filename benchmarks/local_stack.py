"""The local stack against the reference ceiling, in one run.

Drives the same client cycle (shared/bench/bare_relay.py's own `bench` client: subscribe, publish,
receive, ack, ack received, unsubscribe; 16 concurrent pairs) against
`bare_relay.py serve`, `wsrelay serve --runtime inprocess` (embedded SQLite store) and
`wsrelay serve --runtime lmi`, alternating rounds, and prints medians and ratios. A fourth row
runs the gateway with benchmarks/dict_relay.py as its handler (the bare relay's logic): what
the emulator costs by itself, apart from wsrelay's handlers.
Beside throughput it prints the server's CPU time per cycle (its whole process tree: the lmi
workers count), which the machine's noise moves much less than cycles/s.
Targets on a 2-core machine: inprocess >= 0.5x the bare relay's cycles/s, p99 <= 3x.

    python benchmarks/local_stack.py [--pairs 16] [--seconds 5] [--rounds 3] [--bare PATH]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
from _support import free_port
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BARE = ROOT.parent / "shared" / "bench" / "bare_relay.py"
RESULT = re.compile(r"cycles=(\d+) cycles/s=(\d+) p50=([\d.]+)ms p99=([\d.]+)ms")


@dataclass(frozen=True)
class Server:
    """A server under test: where to connect, and its process (for CPU time)."""

    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server and its children so far."""
        root = psutil.Process(self.pid)
        total = 0.0
        for proc in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.NoSuchProcess):
                times = proc.cpu_times()
                total += times.user + times.system
        return total


@contextlib.contextmanager
def bare_server(bare: Path) -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(bare), "serve", str(port)])
    try:
        time.sleep(1.0)
        yield Server(f"ws://127.0.0.1:{port}", proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)


@contextlib.contextmanager
def wsrelay_server(runtime: str, state_dir: str, *extra: str) -> Iterator[Server]:
    command = [sys.executable, "-m", "wsrelay.cli", "serve", "--port", "0", "--quiet"]
    command += ["--runtime", runtime, "--state-dir", state_dir, *extra]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"websocket=(\S+)", line)
        if url is None:
            raise RuntimeError(f"wsrelay serve did not start: {line!r}")
        yield Server(url.group(1), proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def drive(bare: Path, server: Server, pairs: int, seconds: float) -> tuple[float, float, float, float]:
    """One round of the reference's client: cycles/s, p50 ms, p99 ms, server CPU us per cycle."""
    cpu_before = server.cpu_seconds()
    out = subprocess.run(
        [sys.executable, str(bare), "bench", str(pairs), str(seconds), server.url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = server.cpu_seconds() - cpu_before
    match = RESULT.search(out)
    if match is None:
        raise RuntimeError(f"unexpected bench output: {out!r}")
    cycles = int(match.group(1))
    return float(match.group(2)), float(match.group(3)), float(match.group(4)), cpu / cycles * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bare", type=Path, default=DEFAULT_BARE)
    parser.add_argument("--skip-lmi", action="store_true")
    args = parser.parse_args()
    if not args.bare.exists():
        sys.exit(f"reference not found: {args.bare} (pass --bare PATH to bare_relay.py)")
    names = ["bare relay (reference)", "wsrelay inprocess", "gateway only (dict handler)"]
    names += [] if args.skip_lmi else ["wsrelay lmi"]
    samples: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        servers = {
            names[0]: stack.enter_context(bare_server(args.bare)),
            names[1]: stack.enter_context(wsrelay_server("inprocess", f"{tmp}/inprocess")),
            names[2]: stack.enter_context(
                wsrelay_server("inprocess", f"{tmp}/dict", "--route", "$default=dict_relay.sendmessage")
            ),
        }
        if not args.skip_lmi:
            servers[names[3]] = stack.enter_context(wsrelay_server("lmi", f"{tmp}/lmi"))
        for server in servers.values():  # warm-up: connections, lazily started processes
            drive(args.bare, server, args.pairs, 1.0)
        for r in range(args.rounds):
            for name in names:
                print(f"  round {r + 1}/{args.rounds}: {name} ...", file=sys.stderr, flush=True)
                samples[name].append(drive(args.bare, servers[name], args.pairs, args.seconds))
    med = {n: tuple(statistics.median(s[i] for s in samples[n]) for i in range(4)) for n in names}

    def paired(name: str, i: int) -> float:
        """Median over rounds of this row's figure divided by the bare relay's in the same round
        (rounds alternate servers, so a slow minute of the machine hits both)."""
        rounds = zip(samples[name], samples[names[0]], strict=True)
        return statistics.median(mine[i] / bare[i] for mine, bare in rounds)

    grid = Table(title=f"local stack, {args.pairs} pairs, {args.rounds} rounds x {args.seconds:g}s (medians)")
    columns = ("server", "cycles/s", "p50 ms", "p99 ms", "CPU us/cycle", "cycles/s vs bare", "p99 vs bare")
    for col in (*columns, "CPU vs bare"):
        grid.add_column(col, justify="right")
    for name in names:
        rate, p50, p99, cpu = med[name]
        grid.add_row(
            name,
            f"{rate:.0f}",
            f"{p50:.2f}",
            f"{p99:.2f}",
            f"{cpu:.0f}",
            f"{paired(name, 0):.2f}x",
            f"{paired(name, 2):.2f}x",
            f"{paired(name, 3):.2f}x",
        )
    Console(width=140).print(grid)
    print("ratios: the median over rounds of each round's ratio to the bare relay")
    print("targets: inprocess cycles/s >= 0.50x bare, p99 <= 3x bare")


if __name__ == "__main__":
    main()
