"""The load test's per-second series: interval histograms that merge exactly, every second
present (a stall is a row of zeros and a dip in the plot, partial seconds marked), runs with
ids (a run merged twice is refused, runs apart in time stay apart); and, against `wsrelay serve`,
a real stall (the server stopped with SIGSTOP) and a small run of the recovery scenario."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time

import pytest
from cli_support import cli
from waiting import wait_until

from wsrelay.tools.loadtest.generator import LoadSpec
from wsrelay.tools.loadtest.histograms import Latency
from wsrelay.tools.loadtest.payloads import parse_sizes
from wsrelay.tools.loadtest.plot import figure, timeline
from wsrelay.tools.loadtest.report import ReportError, build_report, merge_reports
from wsrelay.tools.loadtest.tally import Tally


def _run(
    run_id: str, started: float, ended: float, deliveries: dict[float, list[float]], sent: dict[float, int]
):
    """A report of a run from `started` to `ended` (epoch seconds): `deliveries` maps a moment to
    the latencies delivered then, `sent` a moment to the jobs sent then."""
    tally = Tally()
    for at, count in sent.items():
        for _ in range(count):
            tally.sent += 1
            tally.published += 1
            tally.intervals.sent(at)
    for at, values in deliveries.items():
        for value in values:
            tally.delivered += 1
            tally.acked += 1
            tally.deliver.record(value)
            tally.ack.record(value)
            tally.intervals.delivered(at, value)
            tally.intervals.acked(at)
    spec = LoadSpec(url="ws://127.0.0.1:1/x", duration_s=2.0, rate=10.0, sizes=tuple(parse_sizes("1K")))
    return build_report(spec, run_id, tally, [], [], started, ended)


def test_per_second_histograms_merge_exactly():
    first = {100.2: [0.001 * i for i in range(1, 300)], 101.7: [0.05, 0.07, 0.5]}
    second = {100.9: [0.002 * i for i in range(1, 50)], 102.1: [1.5]}
    merged = merge_reports([_run("a", 100.1, 102.4, first, {}), _run("b", 100.5, 102.6, second, {})])
    for epoch_second in (100, 101, 102):
        whole = Latency()
        for deliveries in (first, second):
            for at, values in deliveries.items():
                for value in values if math.floor(at) == epoch_second else []:
                    whole.record(value)
        assert merged["deliver_histograms_per_s"][str(epoch_second)] == whole.encode()
        row = merged["per_second"][epoch_second - 100]
        assert (row["delivered"], row["deliver_p99_ms"]) == (whole.count, round(whole.percentile_ms(99), 3))
    # The seconds add up to the whole run's histogram, exactly.
    total = Latency()
    for encoded in merged["deliver_histograms_per_s"].values():
        total.add(Latency.decode(encoded))
    assert total.encode() == merged["histograms"]["deliver"]


def test_every_second_is_in_the_series_a_stall_as_zeros_and_partial_seconds_marked():
    report = _run("r", 100.4, 105.2, {100.5: [0.002], 104.5: [3.0, 3.1]}, {100.5: 3})
    rows = report["per_second"]
    assert [row["t"] for row in rows] == [0, 1, 2, 3, 4, 5]
    assert [row["delivered"] for row in rows] == [1, 0, 0, 0, 2, 0]
    assert [row["partial"] for row in rows] == [True, False, False, False, False, True]
    assert [row["deliver_p50_ms"] is None for row in rows] == [False, True, True, True, False, True]
    assert report["stalled_s"] == [1, 2, 3]  # jobs were pending; the partial last second is not a stall
    # The plot: a dip to zero in the counts, a gap (no line drawn across) in the latency.
    drawn = figure(report)
    over_time, counts = drawn.axes[0], drawn.axes[1]
    p99 = over_time.lines[1].get_ydata()
    delivered = counts.lines[1].get_ydata()
    assert [math.isnan(v) for v in p99] == [False, True, True, True, False, True]
    assert list(delivered[1:4]) == [0, 0, 0] and math.isnan(delivered[0]) and math.isnan(delivered[5])


def test_a_run_merged_twice_is_refused():
    one = _run("same", 100.0, 101.5, {100.5: [0.001]}, {100.1: 1})
    with pytest.raises(ReportError, match="run same is already in another report"):
        merge_reports([one, one])
    merged = merge_reports([one, _run("other", 100.0, 101.5, {}, {})])
    with pytest.raises(ReportError, match="the same run twice"):
        merge_reports([merged, one])  # a merged report carries its runs' ids


def test_runs_apart_in_time_stay_apart_and_rates_come_from_the_time_they_cover(tmp_path):
    early = _run("early", 100.0, 102.5, {100.5: [0.001] * 10, 101.5: [0.001] * 10}, {100.2: 20})
    late = _run("late", 110.0, 112.5, {110.5: [0.001] * 10, 111.5: [0.001] * 10}, {110.2: 20})
    merged = merge_reports([early, late])
    assert [row["t"] for row in merged["per_second"]] == [0, 1, 2, 10, 11, 12]
    assert merged["runs_overlap"] is False and merged["spans"] == [[100.0, 102.5], [110.0, 112.5]]
    assert (merged["duration_s"], merged["rate"], merged["throughput_avg_per_s"]) == (4.0, 10.0, 10.0)
    ts, values = timeline(merged, "delivered")
    assert ts == list(range(13)) and all(math.isnan(v) for v in values[3:10])  # no line across the gap
    paths = [tmp_path / "early.json", tmp_path / "late.json"]
    for path, report in zip(paths, (early, late), strict=True):
        path.write_text(json.dumps(report))
    code, out, _ = cli("loadtest-merge", *map(str, paths))
    assert code == 0 and "the runs do not overlap in time: 2 separate periods, 7.5 s apart" in out


# -- against wsrelay serve ----------------------------------------------------------------------


def _loadtest(*args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "wsrelay.cli", "loadtest", *args, "--progress", "off"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.processes
def test_a_stalled_server_shows_as_seconds_of_zeros_and_a_dip(served, tmp_path):
    server = served("--quiet")
    out = tmp_path / "stall.json"
    load = _loadtest(
        server.websocket, "--rate", "50", "--duration-s", "8", "--grace-s", "30", "--json", str(out)
    )
    try:
        wait_until(lambda: server.invocations() > 60, 60, what="the load running")
        os.kill(server.proc.pid, signal.SIGSTOP)
        stopped = time.time()
        # The stall must cover two whole wall-clock seconds: a condition on the clock itself.
        wait_until(lambda: time.time() >= math.floor(stopped) + 3, 10, what="two whole seconds stopped")
    finally:
        os.kill(server.proc.pid, signal.SIGCONT)
    resumed = time.time()
    output, _ = load.communicate(timeout=120)
    assert load.returncode == 0, output
    report = json.loads(out.read_text())
    t0 = math.floor(report["started_at"])
    stall = [second - t0 for second in range(math.floor(stopped) + 1, math.floor(resumed))]
    assert len(stall) >= 2
    rows = {row["t"]: row for row in report["per_second"]}
    for t in stall:
        assert rows[t]["delivered"] == 0 and rows[t]["deliver_p99_ms"] is None and not rows[t]["partial"]
        assert rows[t]["sent"] > 0  # the generator kept sending: the relay stalled, not the load
    assert set(stall) <= set(report["stalled_s"]) and report["lost"] == 0
    delivered = dict(zip(*timeline(report, "delivered", full_only=True), strict=True))
    assert all(delivered[t] == 0 for t in stall)
    assert max(v for v in delivered.values() if not math.isnan(v)) > 0  # a dip, between deliveries
    drawn = figure(report)  # the counts panel's delivered line dips to zero there
    assert all(drawn.axes[1].lines[1].get_ydata()[t] == 0 for t in stall)


@pytest.mark.processes
def test_recovery_after_a_fault_window_loses_nothing(served, tmp_path):
    """The recovery scenario at a small scale (counts only): 410s on 5% of posts for two seconds,
    then none; every job is delivered and acked, those sent after the window too."""
    server = served("--quiet", "--publisher-ack", "stored", "--post-410", "0.05", "--fault-window-s", "1:3")
    out = tmp_path / "recovery.json"
    load = _loadtest(
        server.websocket, "--rate", "100", "--duration-s", "6", "--grace-s", "30", "--json", str(out)
    )
    output, _ = load.communicate(timeout=120)
    assert load.returncode == 0, output
    report = json.loads(out.read_text())
    assert report["lost"] == 0 and report["unacked"] == 0 and report["acked"] == report["sent"] == 600
    assert report["server"]["faults_injected"]["by_kind"]["post-410"] > 0
    assert report["reconnects"] > 0
    window_end = report["server"]["started_at"] + 3 - math.floor(report["started_at"])
    after = [row for row in report["per_second"] if row["t"] >= math.ceil(window_end)]
    sent_after = sum(row["sent"] for row in after)
    assert sent_after > 0
    # Each job sent after the window is delivered after it: the deliveries there cover them all.
    assert sum(row["delivered"] for row in after) >= sent_after
