"""The local stack against its reference relay, in one run.

Drives every server with the same client cycle (benchmarks/reference_relay.py: subscribe,
publish, receive, ack, ack received, unsubscribe; 16 concurrent connection pairs):
`reference_relay.py serve` (a dict in one asyncio process, the gateway's WebSocket settings),
`wsrelay serve --runtime inprocess` (embedded SQLite store) and `wsrelay serve --runtime lmi`,
alternating rounds, and prints medians and ratios. A fourth row runs the gateway with
benchmarks/dict_relay.py as its handler (the reference's logic): what the emulator costs by
itself, apart from wsrelay's handlers.
Beside throughput it prints the server's CPU time per cycle (its whole process tree: the lmi
workers count), which the machine's noise moves much less than cycles/s.
Targets on a 2-core machine: inprocess >= 0.5x the reference's cycles/s, p99 <= 3x.

    python benchmarks/local_stack.py [--pairs 16] [--seconds 5] [--rounds 3] [--skip-lmi]
                                     [--compare-src DIR] [--dashboard]

``--compare-src DIR`` adds a row: ``wsrelay serve --runtime inprocess`` from another checkout's
``DIR/src`` (e.g. ``git archive <commit> src | tar -x -C DIR``), measured in the same rounds, so a
change's cost is read against its predecessor on the same machine minute.

``--dashboard`` adds two rows, in the same rounds: ``wsrelay serve --dashboard`` with no page
open, and with one event stream subscribed by a client that reads it and renders nothing (a
thread of this process). Targets: server CPU per cycle, each round against the plain inprocess
server of the same round, within 5% with no page (unchanged, within noise) and < 10% more with
the stream.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
from _support import target
from reference_relay import drive, positive
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

BENCHMARKS = Path(__file__).resolve().parent
REFERENCE = "reference relay"
INPROCESS = "wsrelay inprocess"
DASHBOARD = "inprocess --dashboard, no page"
STREAMED = "inprocess --dashboard, 1 stream"
START_TIMEOUT_S = 60.0


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
def started(command: list[str], address: re.Pattern[str], source: str | None = None) -> Iterator[Server]:
    """Run `command` until the block ends; its first stdout line gives the URL (`address`).
    `source`, when given, is imported ahead of the installed wsrelay."""
    path = [source, str(BENCHMARKS), os.environ.get("PYTHONPATH")]
    python_path = os.pathsep.join(filter(None, path))
    proc = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": python_path}
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the port is bound
        match = address.search(line)
        if match is None:
            raise RuntimeError(f"{' '.join(command[1:3])} did not start: {line!r}")
        yield Server(match.group(1), proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)


def reference_server() -> contextlib.AbstractContextManager[Server]:
    command = [sys.executable, str(BENCHMARKS / "reference_relay.py"), "serve", "--port", "0"]
    return started(command, re.compile(r"listening (\S+)"))


def wsrelay_server(
    runtime: str, state_dir: str, *extra: str, source: str | None = None
) -> contextlib.AbstractContextManager[Server]:
    command = [sys.executable, "-m", "wsrelay.cli", "serve", "--port", "0", "--quiet"]
    command += ["--runtime", runtime, "--state-dir", state_dir, *extra]
    return started(command, re.compile(r"websocket=(\S+)"), source)


class StreamClient(threading.Thread):
    """Reads ``/_wsrelay/events`` and throws it away: a page that does not render."""

    def __init__(self, server: Server, state_dir: str) -> None:
        super().__init__(daemon=True)
        token = (Path(state_dir) / "dashboard-token").read_text().strip()
        host, port = server.url.split("//")[1].split("/")[0].rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)))
        request = f"GET /_wsrelay/events?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n"
        self.sock.sendall(request.encode())
        self.received = 0
        self.batches = 0

    def run(self) -> None:
        with contextlib.suppress(OSError):
            while data := self.sock.recv(65536):
                self.received += len(data)
                self.batches += data.count(b"data: ")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def stream_share(server: Server) -> str:
    """The stream's own cost as the server measures it (CPU time of its pump's passes), against
    the server's whole CPU time: a figure the machine's noise does not move."""
    host = server.url.split("//")[1].split("/")[0]
    with urllib.request.urlopen(f"http://{host}/_wsrelay/stats", timeout=10) as response:
        stream_cpu_s = json.load(response)["dashboard"]["streamCpuMs"] / 1000
    total = server.cpu_seconds()
    share = stream_cpu_s / total
    cpu_ms = stream_cpu_s * 1000
    return (
        f"the stream's passes, measured in the server: {cpu_ms:.0f} ms CPU, {share:.1%} of its {total:.1f} s"
    )


def measure(server: Server, pairs: int, seconds: float) -> tuple[float, float, float, float]:
    """One round of the client cycle: cycles/s, p50 ms, p99 ms, server CPU us per cycle."""
    cpu_before = server.cpu_seconds()
    result = asyncio.run(drive(server.url, pairs, seconds))
    cpu = server.cpu_seconds() - cpu_before
    return result.cycles_per_s, result.p50_ms, result.p99_ms, cpu / result.cycles * 1e6


def print_table(
    args: argparse.Namespace, samples: dict[str, list[tuple[float, float, float, float]]]
) -> None:
    names = list(samples)
    med = {n: tuple(statistics.median(s[i] for s in samples[n]) for i in range(4)) for n in names}

    def paired(name: str, i: int, base: str = REFERENCE) -> float:
        """Median over rounds of this row's figure divided by `base`'s in the same round
        (rounds alternate servers, so a slow minute of the machine hits both)."""
        rounds = zip(samples[name], samples[base], strict=True)
        return statistics.median(mine[i] / reference[i] for mine, reference in rounds)

    grid = Table(title=f"local stack, {args.pairs} pairs, {args.rounds} rounds x {args.seconds:g}s (medians)")
    columns = ("server", "cycles/s", "p50 ms", "p99 ms", "CPU us/cycle")
    for col in (*columns, "cycles/s vs ref", "p99 vs ref", "CPU vs ref"):
        grid.add_column(col, justify="right")
    for name in names:
        rate, p50, p99, cpu = med[name]
        ratios = (f"{paired(name, i):.2f}x" for i in (0, 2, 3))
        grid.add_row(name, f"{rate:.0f}", f"{p50:.2f}", f"{p99:.2f}", f"{cpu:.0f}", *ratios)
    Console(width=140).print(grid)
    print("ratios: the median over rounds of each round's ratio to the reference relay")
    inprocess = "wsrelay inprocess"
    if inprocess in samples:
        rate, p99 = paired(inprocess, 0), paired(inprocess, 2)
        print(target(f"inprocess cycles/s >= 0.50x the reference (measured {rate:.2f}x)", rate >= 0.5))
        print(target(f"inprocess p99 <= 3x the reference (measured {p99:.2f}x)", p99 <= 3.0))
    if DASHBOARD in samples:
        idle, streamed = paired(DASHBOARD, 3, INPROCESS), paired(STREAMED, 3, INPROCESS)
        print(f"server CPU per cycle against {INPROCESS} in the same round (median over rounds):")
        print(target(f"--dashboard, no page: CPU/cycle <= 1.05x (measured {idle:.3f}x)", idle <= 1.05))
        print(target(f"--dashboard, 1 stream: CPU/cycle < 1.10x (measured {streamed:.3f}x)", streamed < 1.10))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pairs", type=positive(int), default=16)
    parser.add_argument("--seconds", type=positive(float), default=5.0)
    parser.add_argument("--rounds", type=positive(int), default=3)
    parser.add_argument("--skip-lmi", action="store_true")
    parser.add_argument("--compare-src", type=Path, metavar="DIR", help="another checkout's root")
    parser.add_argument(
        "--dashboard", action="store_true", help="add the --dashboard rows (no page, 1 stream)"
    )
    args = parser.parse_args()
    if args.compare_src is not None and not (args.compare_src / "src" / "wsrelay").is_dir():
        parser.error(f"--compare-src {args.compare_src}: no src/wsrelay there")
    names = [REFERENCE, INPROCESS, "gateway only (dict handler)"]
    names += [] if args.skip_lmi else ["wsrelay lmi"]
    compare = f"wsrelay inprocess ({args.compare_src})" if args.compare_src else None
    samples: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in names}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        servers = {
            names[0]: stack.enter_context(reference_server()),
            names[1]: stack.enter_context(wsrelay_server("inprocess", f"{tmp}/inprocess")),
            names[2]: stack.enter_context(
                wsrelay_server("inprocess", f"{tmp}/dict", "--route", "$default=dict_relay.sendmessage")
            ),
        }
        if not args.skip_lmi:
            servers[names[3]] = stack.enter_context(wsrelay_server("lmi", f"{tmp}/lmi"))
        if args.dashboard:
            for name, folder in ((DASHBOARD, "dash"), (STREAMED, "stream")):
                servers[name] = stack.enter_context(
                    wsrelay_server("inprocess", f"{tmp}/{folder}", "--dashboard")
                )
                names.append(name)
                samples[name] = []
            stream = StreamClient(servers[STREAMED], f"{tmp}/stream")
            stack.callback(stream.close)
            stream.start()
        if compare is not None:
            source = str((args.compare_src / "src").resolve())
            servers[compare] = stack.enter_context(wsrelay_server("inprocess", f"{tmp}/cmp", source=source))
            names.append(compare)
            samples[compare] = []
        # The progress line is redrawn between rounds only: nothing competes with the client.
        with Progress(console=Console(stderr=True), auto_refresh=False, transient=True) as progress:
            task = progress.add_task("warm-up", total=len(names) * (args.rounds + 1))
            for server in servers.values():  # connections, lazily started processes
                measure(server, args.pairs, min(1.0, args.seconds))
                progress.update(task, advance=1, refresh=True)
            for r in range(args.rounds):
                for name in names:
                    progress.update(task, description=f"round {r + 1}/{args.rounds}: {name}", refresh=True)
                    samples[name].append(measure(servers[name], args.pairs, args.seconds))
                    progress.advance(task)
        if args.dashboard:
            print(f"the stream client read {stream.received / 1024:.0f} KiB in {stream.batches} batches")
            print(stream_share(servers[STREAMED]))
    print_table(args, samples)


if __name__ == "__main__":
    main()
