"""Capacity of one `wsrelay loadtest` generator process: the highest open-loop rate it sustains
with its own scheduling lag p99 <= 2 ms, without and with the live progress bar.

The relay is the reference relay (benchmarks/reference_relay.py serve), so the figure is the
generator's, not wsrelay's. Rates climb a ladder; at each rate the run without the bar and the
run with it alternate (a slow minute of the machine hits both). Each trial is a real
`wsrelay loadtest URL --rate R --duration-s D --json F` child process; the bar is drawn as on a
terminal (TTY_COMPATIBLE/TTY_INTERACTIVE) into a file. Besides the capacities it prints the
generator's CPU time per 1000 jobs (its process time during the run) with and without the bar at the rates
both sustained: the bar's cost, which the machine's noise moves much less than capacity. Each
rate and mode runs `--repeats` times (alternating) and counts with its median lag p99.
Targets on a 2-core machine: >= 2,000 jobs/s, the bar costing < 5%.

    python benchmarks/loadgen_capacity.py [--duration 4] [--max-lag-ms 2] [--rates 500,1000,...] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from _support import target
from rich.console import Console
from rich.table import Table

BENCHMARKS = Path(__file__).resolve().parent
DEFAULT_RATES = "250,500,750,1000,1250,1500,1750,2000,2250,2500,3000,3500,4000"


@dataclass(frozen=True)
class Trial:
    rate: float
    bar: bool
    lag_p99_ms: float
    deliver_p99_ms: float
    lost: int
    cpu_s: float
    jobs: int
    bar_bytes: int

    @property
    def sustained(self) -> bool:
        return self.lost == 0 and self.jobs > 0

    def cpu_ms_per_1000(self) -> float:
        return self.cpu_s / self.jobs * 1e6 if self.jobs else float("nan")


@contextlib.contextmanager
def reference_relay() -> Iterator[str]:
    command = [sys.executable, str(BENCHMARKS / "reference_relay.py"), "serve", "--port", "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        match = re.search(r"listening (\S+)", proc.stdout.readline())
        if match is None:
            raise RuntimeError("the reference relay did not start")
        yield match.group(1)
    finally:
        proc.terminate()
        proc.wait(30)


def trial(url: str, rate: float, bar: bool, duration: float, work: Path) -> Trial:
    report, screen = work / "report.json", work / "bar.txt"
    command = [sys.executable, "-m", "wsrelay.cli", "loadtest", url, "--rate", f"{rate:g}"]
    command += ["--duration-s", f"{duration:g}", "--grace-s", "5", "--json", str(report)]
    command += ["--progress", "on" if bar else "off"]
    env = {**os.environ, "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "COLUMNS": "120"}
    report.unlink(missing_ok=True)  # never read a previous trial's figures
    with screen.open("w") as stderr:
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=stderr, env=env, timeout=600)
    if done.returncode not in (0, 1) or not report.exists():  # 1: a measurement that failed its bar
        raise SystemExit(f"loadtest failed (exit {done.returncode}): {screen.read_text()[-2000:]}")
    data = json.loads(report.read_text())
    return Trial(
        rate,
        bar,
        data["latency"]["lag"]["p99_ms"],
        data["p99_ms"],
        data["lost"] + data["unacked"],
        data["generator_cpu_s"],
        data["sent"],
        screen.stat().st_size,
    )


def median_trial(results: list[Trial]) -> Trial:
    """The trials of one rate and mode as one: median lag, deliver p99 and CPU; any loss counts."""
    first = results[0]
    return Trial(
        first.rate,
        first.bar,
        statistics.median(r.lag_p99_ms for r in results),
        statistics.median(r.deliver_p99_ms for r in results),
        sum(r.lost for r in results),
        statistics.median(r.cpu_s / r.jobs for r in results) * first.jobs,
        first.jobs,
        min(r.bar_bytes for r in results),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=4.0)
    parser.add_argument("--max-lag-ms", type=float, default=2.0)
    parser.add_argument("--rates", default=DEFAULT_RATES)
    parser.add_argument("--repeats", type=int, default=3, help="trials per rate and mode (median lag)")
    args = parser.parse_args()
    rates = [float(rate) for rate in args.rates.split(",")]
    trials: list[Trial] = []
    console = Console(width=120)
    failures = {False: 0, True: 0}
    with reference_relay() as url, tempfile.TemporaryDirectory() as tmp:
        for step, rate in enumerate(rates):
            order = (False, True) if step % 2 == 0 else (True, False)
            runs: dict[bool, list[Trial]] = {False: [], True: []}
            for _ in range(args.repeats):
                for bar in order:
                    if failures[bar] < 2:
                        runs[bar].append(trial(url, rate, bar, args.duration, Path(tmp)))
            for bar, results in runs.items():
                if not results:
                    continue
                result = median_trial(results)
                trials.append(result)
                ok = result.sustained and result.lag_p99_ms <= args.max_lag_ms
                failures[bar] = 0 if ok else failures[bar] + 1
                console.print(
                    f"rate {rate:6.0f}  bar {'on ' if bar else 'off'}  lag p99 {result.lag_p99_ms:7.2f} ms  "
                    f"deliver p99 {result.deliver_p99_ms:8.2f} ms  lost {result.lost}  "
                    f"CPU {result.cpu_ms_per_1000():6.0f} ms/1000 jobs  bar output {result.bar_bytes} B  "
                    f"(median of lag p99s {', '.join(f'{r.lag_p99_ms:.1f}' for r in results)})",
                    highlight=False,
                )
            if all(count >= 2 for count in failures.values()):
                break
    summarize(trials, args.max_lag_ms, console)


def summarize(trials: list[Trial], max_lag_ms: float, console: Console) -> None:
    def capacity(bar: bool) -> float:
        passing = [t.rate for t in trials if t.bar == bar and t.sustained and t.lag_p99_ms <= max_lag_ms]
        return max(passing, default=0.0)

    both = sorted({t.rate for t in trials if t.bar} & {t.rate for t in trials if not t.bar})
    cpu_ratio = [
        next(t for t in trials if t.rate == r and t.bar).cpu_ms_per_1000()
        / next(t for t in trials if t.rate == r and not t.bar).cpu_ms_per_1000()
        for r in both
    ]
    table = Table(title=f"one generator process vs the reference relay (lag p99 <= {max_lag_ms:g} ms)")
    for column in ("progress bar", "capacity jobs/s", "median CPU ms / 1000 jobs"):
        table.add_column(column, justify="right")
    for bar in (False, True):
        cpu = statistics.median(t.cpu_ms_per_1000() for t in trials if t.bar == bar and t.rate in both)
        table.add_row("on" if bar else "off", f"{capacity(bar):.0f}", f"{cpu:.0f}")
    console.print(table)
    off, on = capacity(False), capacity(True)
    ratio = on / off if off else float("nan")
    cpu_cost = statistics.median(cpu_ratio) if cpu_ratio else float("nan")
    console.print(
        target(f">= 2000 jobs/s without the bar (measured {off:.0f})", off >= 2000), highlight=False
    )
    console.print(
        target(f"the bar costs < 5% CPU per job (measured {cpu_cost:.3f}x)", cpu_cost < 1.05), highlight=False
    )
    console.print(
        f"capacity with the bar / without: {ratio:.2f}x; CPU per job with / without (median over "
        f"{len(both)} paired rates): {statistics.median(cpu_ratio):.3f}x",
        highlight=False,
    )


if __name__ == "__main__":
    main()
