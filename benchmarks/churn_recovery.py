"""Connection churn and recovery after a fault window: `wsrelay loadtest` against
`wsrelay serve --runtime inprocess`, in both publisher-ack modes (docs/benchmarks.md,
"Connection churn, fault windows and recovery").

- churn: 500 jobs/s for 60 s under ``--connection-lifetime-s 30 --post-429 0.2
  --drop-disconnect 0.2 --fault-seed 1``. Targets: 0 lost, 0 unacked, delivery p99 <= 2 s.
- recovery: 500 jobs/s for 60 s under ``--post-410 0.05 --fault-window-s 20:40``. Targets, from
  the per-second series: from 15 s after the window closes to the end, the median per-second
  delivery p99 <= 2x the median before the window (floor 5 ms), no second above 5x, and 0 lost.
- both: how long publishers wait for their acks (publish -> ack p50 / p99) in each mode.

The window is read from the server's stats as the load test recorded them (``server`` in its
report), so the seconds before and after it are those of the server's own clock. Only whole
seconds count (the partial first and last are left out), and a second before the window must end
before it starts.

``--resubscribe-all-at-once`` runs the routers as they were before the resubscribe storm was
fixed (every awaited guid resubscribed in one write after a reconnect): the "before" of the
feedback-loop measurement.

    python benchmarks/churn_recovery.py [--rate 500] [--duration 60] [--modes stored,router]
        [--scenarios churn,recovery] [--resubscribe-all-at-once] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _support import target
from rich.console import Console
from rich.table import Table

CHURN = [
    "--connection-lifetime-s",
    "30",
    "--post-429",
    "0.2",
    "--drop-disconnect",
    "0.2",
    "--fault-seed",
    "1",
]
RECOVERY = ["--post-410", "0.05", "--fault-seed", "1"]  # and --fault-window-s (--window)
CHURN_P99_MS = 2000.0
FLOOR_MS = 5.0
MEDIAN_FACTOR = 2.0
SECOND_FACTOR = 5.0
# Runs the CLI with the routers' resubscription in one batch (the behaviour before the fix).
ALL_AT_ONCE = (
    "import dataclasses, sys\n"
    "from wsrelay.client import subscriber\n"
    "init = subscriber.Subscriber.__init__\n"
    "def all_at_once(self, config):\n"
    "    init(self, dataclasses.replace(config, resubscribe_batch=10**9))\n"
    "subscriber.Subscriber.__init__ = all_at_once\n"
    "from wsrelay.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def run(scenario: str, mode: str, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    """One load test against a fresh server; its report."""
    state = folder / f"{scenario}-{mode}"
    serve = [sys.executable, "-m", "wsrelay.cli", "serve", "--port", "0", "--quiet", "--runtime", "inprocess"]
    faults = CHURN if scenario == "churn" else [*RECOVERY, "--fault-window-s", args.window]
    serve += ["--state-dir", str(state), "--publisher-ack", mode, *faults]
    server = subprocess.Popen(serve, stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        match = re.search(r"websocket=(\S+)", server.stdout.readline())
        if match is None:
            raise SystemExit("wsrelay serve did not start")
        out = folder / f"{scenario}-{mode}.json"
        load = ["loadtest", match.group(1), "--rate", f"{args.rate:g}", "--duration-s", f"{args.duration:g}"]
        load += ["--grace-s", "30", "--progress", "off", "--json", str(out)]
        if args.plots:
            load += ["--plot", str(folder / f"{scenario}-{mode}.png")]
        prefix = (
            [sys.executable, "-c", ALL_AT_ONCE]
            if args.resubscribe_all_at_once
            else [sys.executable, "-m", "wsrelay.cli"]
        )
        subprocess.run([*prefix, *load], stdout=subprocess.DEVNULL, check=False)
        return json.loads(out.read_text())
    finally:
        server.terminate()
        server.wait(60)


def recovery(report: dict[str, Any], settle_s: float) -> dict[str, float]:
    """The recovery figures of a report: per-second p99 medians before the window and from
    `settle_s` after it, and the worst second after."""
    server = report["server"]
    t0 = math.floor(report["started_at"])
    start = server["started_at"] + server["fault_window_s"][0] - t0
    end = server["started_at"] + server["fault_window_s"][1] - t0
    rows = [row for row in report["per_second"] if not row["partial"] and row["deliver_p99_ms"] is not None]
    before = [row["deliver_p99_ms"] for row in rows if row["t"] + 1 <= start]
    after = [row["deliver_p99_ms"] for row in rows if row["t"] >= end + settle_s]
    during = [row["deliver_p99_ms"] for row in rows if start <= row["t"] < end]
    return {
        "before_ms": statistics.median(before) if before else math.nan,
        "during_ms": max(during) if during else math.nan,
        "after_ms": statistics.median(after) if after else math.nan,
        "worst_after_ms": max(after) if after else math.nan,
        "seconds_after": len(after),
    }


def churn_verdicts(name: str, report: dict[str, Any]) -> list[str]:
    lost, unacked, p99_s = report["lost"], report["unacked"], report["p99_ms"] / 1000
    return [
        target(f"{name} 0 lost, 0 unacked (lost {lost}, unacked {unacked})", lost == 0 and unacked == 0),
        target(f"{name} delivery p99 <= 2 s (measured {p99_s:.2f} s)", report["p99_ms"] <= CHURN_P99_MS),
    ]


def recovery_verdicts(name: str, report: dict[str, Any], figures: dict[str, float]) -> list[str]:
    before = figures["before_ms"]
    bound = FLOOR_MS if math.isnan(before) else max(before, FLOOR_MS)
    after, worst = figures["after_ms"], figures["worst_after_ms"]
    return [
        target(
            f"{name} median p99/s after <= {MEDIAN_FACTOR:g}x before, floor {FLOOR_MS:g} ms "
            f"(measured {after:.1f} ms vs {bound:.1f} ms)",
            after <= MEDIAN_FACTOR * bound,
        ),
        target(
            f"{name} no second after above {SECOND_FACTOR:g}x "
            f"(worst {worst:.1f} ms vs {SECOND_FACTOR * bound:.1f} ms)",
            worst <= SECOND_FACTOR * bound,
        ),
        target(f"{name} 0 lost (lost {report['lost']})", report["lost"] == 0),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=500.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--modes", default="stored,router")
    parser.add_argument("--scenarios", default="churn,recovery")
    parser.add_argument("--window", default="20:40", help="recovery: --fault-window-s START:END")
    parser.add_argument("--settle", type=float, default=15.0, help="recovery: judged from this long after")
    parser.add_argument("--resubscribe-all-at-once", action="store_true")
    parser.add_argument("--plots", action="store_true", help="also write each run's --plot")
    parser.add_argument("--keep", type=Path, help="write the reports (and plots) here")
    args = parser.parse_args()
    console = Console(width=150)
    table = Table(title=f"churn and recovery: {args.rate:g} jobs/s for {args.duration:g} s, inprocess")
    columns = [
        "run",
        "ack mode",
        "lost",
        "unacked",
        "reconnects",
        "deliver p50 / p99 ms",
        "ack wait p50 / p99 ms",
    ]
    columns.append(f"p99/s ms: before / worst in window / after (+{args.settle:g} s) / worst after")
    for column in columns:
        table.add_column(column, justify="right")
    verdicts: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        for scenario in args.scenarios.split(","):
            for mode in args.modes.split(","):
                report = run(scenario, mode, args, folder)
                ack = report["latency"]["ack"]
                row = [scenario, mode, str(report["lost"]), str(report["unacked"]), str(report["reconnects"])]
                row.append(f"{report['p50_ms']:.1f} / {report['p99_ms']:.1f}")
                row.append(f"{ack['p50_ms']:.1f} / {ack['p99_ms']:.1f}")
                name = f"{scenario} ({mode})"
                if scenario == "churn":
                    row.append("")
                    verdicts += churn_verdicts(name, report)
                else:
                    figures = recovery(report, args.settle)
                    keys = ("before_ms", "during_ms", "after_ms", "worst_after_ms")
                    row.append(" / ".join(f"{figures[key]:.1f}" for key in keys))
                    verdicts += recovery_verdicts(name, report, figures)
                table.add_row(*row)
                console.print(f"{name}: done", highlight=False)
    console.print(table)
    for line in verdicts:
        print(line)


if __name__ == "__main__":
    main()
