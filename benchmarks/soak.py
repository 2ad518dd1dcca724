"""Soak: `wsrelay loadtest` at a moderate rate for 10 minutes against
`wsrelay serve --result-ttl-s 60`, sampling the server's memory (RSS of its process tree) and its
store's files (the SQLite database and WAL; not the handler logs) every few seconds.

Targets: nothing lost (every job delivered and acked); the server's RSS flat once the first two
TTLs have passed: its median over the last 30 s at most 10% above its median over the 30 s after
2 x TTL. Run by hand (it takes the whole duration):

    python benchmarks/soak.py [--rate 100] [--duration 600] [--ttl 60] [--plot soak.png]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

SAMPLE_S = 5.0
WINDOW_S = 30.0


def tree_rss_mb(pid: int) -> float:
    root = psutil.Process(pid)
    total = 0
    for proc in [root, *root.children(recursive=True)]:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total / 2**20


def store_mb(path: Path) -> float:
    """The store's files in the state directory (the SQLite database and its WAL), not the logs."""
    files = [f for f in path.rglob("*") if f.is_file() and not f.name.startswith("handlers.log")]
    return sum(f.stat().st_size for f in files) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=600.0)
    parser.add_argument("--ttl", type=int, default=60)
    parser.add_argument("--runtime", default="inprocess")
    # A soak spans several TTLs, so it runs short ones; stored mode refuses a TTL under 120 s.
    parser.add_argument(
        "--publisher-ack", choices=("stored", "router"), help="default: stored if --ttl >= 120, else router"
    )
    parser.add_argument("--plot", type=Path)
    args = parser.parse_args()
    console = Console(width=120)
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        serve = [sys.executable, "-m", "wsrelay.cli", "serve", "--port", "0", "--quiet"]
        serve += ["--result-ttl-s", str(args.ttl), "--runtime", args.runtime, "--state-dir", str(state)]
        serve += ["--publisher-ack", args.publisher_ack or ("stored" if args.ttl >= 120 else "router")]
        server = subprocess.Popen(serve, stdout=subprocess.PIPE, text=True)
        assert server.stdout is not None
        match = re.search(r"websocket=(\S+)", server.stdout.readline())
        if match is None:
            raise SystemExit("wsrelay serve did not start")
        report = Path(tmp) / "soak.json"
        load = [sys.executable, "-m", "wsrelay.cli", "loadtest", match.group(1), "--rate", f"{args.rate:g}"]
        load += ["--duration-s", f"{args.duration:g}", "--json", str(report), "--progress", "off"]
        samples: list[tuple[float, float, float]] = []
        started = time.monotonic()
        try:
            generator = subprocess.Popen(load, stdout=subprocess.DEVNULL)
            with Progress(console=console) as progress:
                task = progress.add_task("soak", total=args.duration)
                while generator.poll() is None:
                    elapsed = time.monotonic() - started
                    samples.append((elapsed, tree_rss_mb(server.pid), store_mb(state)))
                    progress.update(
                        task,
                        completed=min(elapsed, args.duration),
                        description=f"RSS {samples[-1][1]:.0f} MiB",
                    )
                    time.sleep(min(SAMPLE_S, max(0.5, args.duration / 60)))
        finally:
            server.terminate()
            server.wait(30)
        result = json.loads(report.read_text())
    summarize(args, result, samples, console)


def _median_between(samples: list[tuple[float, float, float]], start: float, end: float, index: int) -> float:
    values = [sample[index] for sample in samples if start <= sample[0] <= end]
    return statistics.median(values) if values else float("nan")


def summarize(
    args: argparse.Namespace, result: dict, samples: list[tuple[float, float, float]], console: Console
) -> None:
    settle = 2 * args.ttl
    end = samples[-1][0]
    rss_settled = _median_between(samples, settle, settle + WINDOW_S, 1)
    rss_end = _median_between(samples, end - WINDOW_S, end, 1)
    growth = rss_end / rss_settled - 1.0
    table = Table(
        title=f"soak: {args.rate:g} jobs/s for {args.duration:g} s, --result-ttl-s {args.ttl}, {args.runtime}"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    for key in ("sent", "delivered", "acked", "lost", "unacked", "duplicates", "errors", "reconnects"):
        table.add_row(key, str(result[key]), "0" if key in ("lost", "unacked", "errors") else "")
    table.add_row(
        "publish -> deliver p50 / p99 / p99.9 ms",
        f"{result['p50_ms']:.2f} / {result['p99_ms']:.2f} / {result['p999_ms']:.2f}",
        "",
    )
    table.add_row(f"server RSS MiB after 2 TTLs ({settle}-{settle + WINDOW_S:g} s)", f"{rss_settled:.1f}", "")
    table.add_row(f"server RSS MiB, last {WINDOW_S:g} s", f"{rss_end:.1f}", "")
    table.add_row("RSS growth after 2 TTLs", f"{growth:+.1%}", "< 10%")
    state_settled = _median_between(samples, settle, settle + WINDOW_S, 2)
    table.add_row(
        "store MiB (SQLite + WAL) after 2 TTLs / at the end",
        f"{state_settled:.1f} / {samples[-1][2]:.1f}",
        "",
    )
    console.print(table)
    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axis = plt.subplots(figsize=(10, 4))
        axis.plot([s[0] for s in samples], [s[1] for s in samples], label="server RSS (MiB)")
        axis.axvline(settle, linestyle="--", color="grey", label="2 x TTL")
        axis.set(xlabel="s", ylabel="MiB", title="wsrelay serve memory during the soak")
        axis.legend()
        figure.savefig(args.plot, dpi=100)


if __name__ == "__main__":
    main()
