"""`wsrelay loadtest` and `wsrelay loadtest-merge`: the open-loop schedule, exact histogram merges
and report merges (units); runs against `wsrelay serve` (open and closed loop, S3 via moto's
server, two processes, injected faults: nothing lost); bad flags (exit 2) and unreachable
endpoints (exit 3). The rest of the command-line convention (``--json -``, ``--plot`` checked
first, Ctrl-C, ``--config``): tests/test_loadtest_convention.py."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import statistics
import time
import uuid

import boto3
import pytest
from cli_support import cli
from gateway_support import start
from relay_doubles import scripted_server
from tool_support import loadtest

from wsrelay.tools.loadtest import generator
from wsrelay.tools.loadtest.generator import Generator, LoadSpec
from wsrelay.tools.loadtest.histograms import HIGHEST_US, Latency
from wsrelay.tools.loadtest.payloads import Payloads, parse_sizes
from wsrelay.tools.loadtest.report import build_report, merge_reports
from wsrelay.tools.loadtest.schedule import arrival_offsets, job_count
from wsrelay.tools.loadtest.tally import Tally

# -- units ------------------------------------------------------------------------------------------


def test_uniform_schedule_is_fixed_in_advance():
    offsets = list(arrival_offsets(200.0, 1.5))
    assert len(offsets) == job_count(200.0, 1.5) == 300
    assert offsets[:3] == [0.0, 0.005, 0.01] and offsets[-1] == pytest.approx(299 / 200)
    assert all(b - a == pytest.approx(0.005) for a, b in itertools.pairwise(offsets))
    assert job_count(3.0, 1.0) == 3 and job_count(2.5, 1.0) == 3


def test_poisson_schedule_is_seeded_and_has_the_rate():
    first = list(arrival_offsets(1000.0, 5.0, "poisson", seed=7))
    assert first == list(arrival_offsets(1000.0, 5.0, "poisson", seed=7))
    assert first != list(arrival_offsets(1000.0, 5.0, "poisson", seed=8))
    assert all(0.0 <= t < 5.0 for t in first) and first == sorted(first)
    gaps = [b - a for a, b in itertools.pairwise(first)]
    assert statistics.mean(gaps) == pytest.approx(0.001, rel=0.1)
    with pytest.raises(ValueError, match="arrivals"):
        list(arrival_offsets(1.0, 1.0, "bursty"))
    with pytest.raises(ValueError, match="positive"):
        list(arrival_offsets(0.0, 1.0))


def test_a_late_generator_still_waits_for_its_last_jobs(monkeypatch):
    """The loop stalls while the last job is scheduled: its timer fires after the schedule's end,
    and the run must still wait for that job before it closes the connections."""

    def stalling_offsets(rate, duration, arrivals, seed):
        offsets = list(arrival_offsets(rate, duration, arrivals, seed))
        yield from offsets[:-1]
        time.sleep(duration)  # a blocked event loop (GC pause, a busy machine)
        yield offsets[-1]

    finished: list[int] = []

    async def job(self, index, due):
        for _ in range(2 + 10 * index):  # the late jobs take longest
            await asyncio.sleep(0)
        finished.append(index)

    monkeypatch.setattr(generator, "arrival_offsets", stalling_offsets)
    monkeypatch.setattr(Generator, "_job", job)
    spec = LoadSpec(url="ws://127.0.0.1:1/x", duration_s=0.3, rate=10.0, grace_s=1.0)
    asyncio.run(Generator(spec)._open_loop(10.0))
    assert sorted(finished) == [0, 1, 2]


def test_histogram_merge_is_exact():
    values = [i * 0.000_37 for i in range(1, 5000)]
    a, b, whole = Latency(), Latency(), Latency()
    for i, seconds in enumerate(values):
        (a if i % 3 else b).record(seconds)
        whole.record(seconds)
    merged = Latency.decode(a.encode())
    merged.add(Latency.decode(b.encode()))
    assert merged.count == whole.count == len(values)
    for percentile in (0.0, 50.0, 90.0, 99.0, 99.9, 100.0):
        assert merged.percentile_ms(percentile) == whole.percentile_ms(percentile)
    assert merged.encode() == whole.encode()


def test_out_of_range_values_are_clamped_and_counted():
    latency = Latency()
    latency.record(0.002)
    latency.record(2 * 3600.0)  # two hours: above the range
    latency.record(-0.5)  # a clock step: below it
    assert latency.count == 3 and latency.clamped == 2
    assert latency.max_ms() == pytest.approx(HIGHEST_US / 1000.0, rel=1e-3)
    again = Latency.decode(latency.encode(), latency.clamped)
    assert again.count == 3 and again.summary()["clamped"] == 2


def test_sizes_spec_and_payloads():
    ranges = parse_sizes("1K-8K:90, 100-200:10")
    assert [(r.low, r.high, r.weight) for r in ranges] == [(1024, 8192, 90.0), (100, 200, 10.0)]
    payloads = Payloads(ranges, seed=3)
    for _ in range(200):
        size = payloads.draw()
        assert 100 <= size <= 200 or 1024 <= size <= 8192
        body = Payloads.result("lt-x-0-12", 12, size)
        assert len(json.dumps({**body, "guid": "lt-x-0-12"}, separators=(",", ":"))) == size
    for bad, problem in [
        ("1K-x", "not a size"),
        ("8K-1K", "LOW <= HIGH"),
        ("1K:0", "weight"),
        ("10", "64 <="),
    ]:
        with pytest.raises(ValueError, match=problem):
            parse_sizes(bad)


def _report(
    deliveries: dict[int, list[float]], latencies_s: list[float], sent: int, delivered: int, run_id: str
) -> dict:
    """A report of a run from second 100 to 102.5: `deliveries` maps an epoch second to the
    latencies delivered in it; the whole-run histograms hold `latencies_s`."""
    tally = Tally(sent=sent, published=sent, delivered=delivered, acked=delivered)
    for second, values in deliveries.items():
        for value in values:
            tally.intervals.delivered(second + 0.5, value)
            tally.intervals.acked(second + 0.5)
    for value in latencies_s:
        tally.deliver.record(value)
        tally.ack.record(value * 2)
        tally.lag.record(value / 100)
    spec = LoadSpec(url="ws://127.0.0.1:1/x", duration_s=2.0, rate=10.0, sizes=tuple(parse_sizes("1K")))
    return build_report(spec, run_id, tally, [], [], 100.0, 102.5)


def test_reports_merge_counts_series_and_histograms():
    one = _report({100: [0.001, 0.002, 0.003], 101: [0.001, 0.001]}, [0.001, 0.002, 0.003], 5, 5, "one")
    two = _report({101: [0.010, 0.010, 0.010, 0.010]}, [0.010, 0.020, 0.030, 0.040], 6, 4, "two")
    merged = merge_reports([one, two])
    assert (merged["sent"], merged["delivered"], merged["lost"]) == (11, 9, 2)
    assert [row["delivered"] for row in merged["per_second"]] == [3, 6, 0]
    assert merged["per_second"][1]["deliver_p99_ms"] == 10.007  # 10 ms at 3 significant digits
    assert merged["rate"] == 20.0 and merged["processes"] == 2 and merged["runs_overlap"]
    both = _report({}, [0.001, 0.002, 0.003, 0.010, 0.020, 0.030, 0.040], 0, 0, "both")
    assert merged["histograms"] == both["histograms"]
    assert merged["p99_ms"] == both["p99_ms"] and merged["latency"]["ack"]["count"] == 7


# -- the command against wsrelay serve --------------------------------------------------------------


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    served = start(tmp_path_factory.mktemp("loadtest"), "--quiet")
    yield served
    served.stop()


@pytest.mark.processes
def test_open_loop_run_delivers_everything_and_writes_json_and_plot(relay, tmp_path):
    out, png = tmp_path / "run.json", tmp_path / "run.png"
    done = loadtest(
        relay.websocket, "--rate", "100", "--duration-s", "1.5", "--json", str(out), "--plot", str(png)
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASSED" in done.stdout and "publish -> deliver" in done.stdout
    assert (
        f"wsrelay loadtest: wrote {out}\n" in done.stderr
        and f"wsrelay loadtest: wrote {png}\n" in done.stderr
    )
    report = json.loads(out.read_text())
    assert report["mode"] == "open" and report["sent"] == 150
    assert report["delivered"] == report["acked"] == 150 and report["lost"] == 0
    assert report["duplicates"] == 0 and report["errors"] == 0
    assert sum(row["delivered"] for row in report["per_second"]) == 150
    assert sum(row["sent"] for row in report["per_second"]) == 150
    assert 0 < report["p50_ms"] <= report["p99_ms"] <= report["max_ms"]
    assert Latency.decode(report["histograms"]["deliver"]).count == 150
    assert png.read_bytes().startswith(b"\x89PNG")


def passing_run(tmp_path, *args: str) -> dict:
    """Run `wsrelay loadtest ARGS --json F`; it must exit 0; the report."""
    out = tmp_path / "report.json"
    done = loadtest(*args, "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(out.read_text())


@pytest.mark.processes
def test_closed_loop_run(relay, tmp_path):
    report = passing_run(
        tmp_path, relay.websocket, "--pairs", "4", "--duration-s", "1", "--enqueue-delay-ms", "0"
    )
    assert report["mode"] == "closed" and report["pairs"] == 4
    assert report["sent"] >= 4 and report["lost"] == 0 and report["acked"] == report["sent"]


@pytest.mark.processes
def test_two_processes_merge_into_one_report(relay, tmp_path):
    report = passing_run(tmp_path, relay.websocket, "--rate", "100", "--duration-s", "1", "--processes", "2")
    assert report["processes"] == 2 and report["sent"] == 100
    assert report["delivered"] == report["acked"] == 100
    assert Latency.decode(report["histograms"]["ack"]).count == 100


def test_large_results_travel_via_s3(relay, tmp_path, moto_endpoint):
    bucket = f"lt-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    load = ["--rate", "40", "--duration-s", "1", "--sizes", "1K-2K:1,40K-60K:1", "--grace-s", "30"]
    s3 = ["--s3-endpoint", moto_endpoint, "--s3-bucket", bucket]
    report = passing_run(tmp_path, relay.websocket, *load, *s3)
    summary = {key: report[key] for key in ("lost", "unacked", "corrupted", "s3_offloaded", "errors_sample")}
    assert report["lost"] == 0 and report["corrupted"] == 0 and report["acked"] == 40, summary
    assert 0 < report["s3_offloaded"] < 40, summary


@pytest.mark.processes
def test_p99_bound_exceeded_exits_1(relay):
    done = loadtest(relay.websocket, "--rate", "50", "--duration-s", "0.5", "--max-p99-ms", "0.001")
    assert done.returncode == 1
    assert re.search(r"FAILED: p99 [\d.]+ ms > --max-p99-ms 0.001", done.stdout)


@pytest.mark.processes
def test_nothing_lost_under_injected_faults(tmp_path, served):
    faults = ("--post-429", "0.2", "--drop-disconnect", "0.2", "--post-410", "0.05", "--fault-seed", "11")
    server = served("--quiet", *faults)
    out = tmp_path / "faults.json"
    done = loadtest(
        server.websocket, "--rate", "100", "--duration-s", "2", "--grace-s", "20", "--json", str(out)
    )
    server.stop()
    report = json.loads(out.read_text())
    assert done.returncode == 0, done.stdout + done.stderr
    assert report["sent"] == 200 and report["lost"] == 0
    assert report["acked"] == report["sent"] and report["corrupted"] == 0
    assert report["reconnects"] > 0  # 410s dropped connections: the clients came back


# -- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize("processes", ["1", "2"])
@pytest.mark.processes
def test_unreachable_url_cannot_run_and_stops_at_once_with_one_line(processes):
    started = time.monotonic()
    done = loadtest("ws://127.0.0.1:9/local", "--rate", "10", "--duration-s", "30", "--processes", processes)
    assert done.returncode == 3
    assert done.stderr.startswith("wsrelay loadtest: error: cannot connect to ws://127.0.0.1:9/local")
    assert len(done.stderr.splitlines()) == 1
    assert time.monotonic() - started < 10  # it did not run the 30 s schedule


def test_a_refused_upgrade_stops_the_load_test_with_one_line():
    async def scenario():
        async with scripted_server(refuse=403) as server:
            return await asyncio.to_thread(
                cli, "loadtest", server.url, "--duration-s", "30", "--progress", "off"
            )

    code, out, err = asyncio.run(scenario())
    assert code == 3 and out == ""  # nothing to measure: it could not run
    assert err.startswith("wsrelay loadtest: error: cannot connect to ") and "HTTP 403" in err
    assert len(err.splitlines()) == 1


def test_missing_bucket_is_refused_before_the_run(relay, moto_endpoint):
    args = ["--s3-endpoint", moto_endpoint, "--s3-bucket", "no-such-bucket-here"]
    done = loadtest(relay.websocket, "--duration-s", "1", *args)
    assert done.returncode == 3 and len(done.stderr.splitlines()) == 1
    assert "S3 bucket no-such-bucket-here" in done.stderr


URL = "ws://127.0.0.1:3001/local"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["http://127.0.0.1/x"], "expected ws:// or wss://"),
        ([URL, "--rate", "0"], "--rate must be a positive finite number, got 0"),
        ([URL, "--pairs", "0"], "--pairs must be at least 1, got 0"),
        ([URL, "--rate", "5", "--pairs", "2"], "--rate and --pairs: give one"),
        ([URL, "--duration-s", "-1"], "--duration-s must be a positive finite number, got -1"),
        ([URL, "--duration-s", "1e9"], "--duration-s must be 0..86400, got 1e+09"),
        ([URL, "--routers", "0"], "--routers must be at least 1, got 0"),
        ([URL, "--processes", "0"], "--processes must be at least 1, got 0"),
        ([URL, "--grace-s", "-2"], "--grace-s must be 0..3600, got -2"),
        ([URL, "--sizes", "1K-zz"], "--sizes part '1K-zz'"),
        ([URL, "--sizes", "40K-50K"], "over 31 KiB travel via S3"),
        ([URL, "--s3-bucket", "b"], "--s3-endpoint and --s3-bucket go together"),
        (
            [URL, "--s3-endpoint", "s3.local", "--s3-bucket", "b"],
            "--s3-endpoint must be an http:// or https://",
        ),
        ([URL, "--max-p99-ms", "0"], "--max-p99-ms must be a positive finite number, got 0"),
        ([URL, "--max-p99-ms", "-1"], "--max-p99-ms must be a positive finite number, got -1"),
        ([URL, "--json", "/nonexistent/dir/r.json"], "does not exist"),
        ([URL, "--plot", "/nonexistent/dir/r.png"], "does not exist"),
        ([URL, "--arrivals", "bursty"], "invalid choice: 'bursty'"),
        ([URL, "--progress", "sometimes"], "invalid choice: 'sometimes'"),
        ([URL, "--rate", "fast"], "invalid number value: 'fast'"),
        ([URL, "--rate", "inf"], "--rate: invalid number value: 'inf'"),
        ([URL, "--rate", "1e7"], "--rate must be at most 100000 jobs/s per run"),
        ([URL, "--grace-s", "inf"], "--grace-s: invalid number value: 'inf'"),
        ([URL, "--enqueue-delay-ms", "1e12"], "--enqueue-delay-ms must be 0..3.6e+06, got 1e+12"),
        ([URL, "--header", "no-colon"], "--header 'no-colon'"),
        ([URL, "--duration", "5"], "unrecognized arguments: --duration 5"),  # renamed: no alias
        ([], "the following arguments are required: URL"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args, problem):
    code, out, err = cli("loadtest", *args)
    assert code == 2
    assert out == "" and len(err.splitlines()) == 1
    assert re.match(r"wsrelay( loadtest)?: error: ", err) and problem in err


# -- loadtest-merge ---------------------------------------------------------------------------------


@pytest.mark.processes
def test_merge_command_adds_runs(tmp_path):
    one = _report({100: [0.001, 0.002, 0.003]}, [0.001, 0.002, 0.003], 3, 3, "one")
    two = _report({100: [0.004], 101: [0.005]}, [0.004, 0.005], 2, 2, "two")
    paths = [tmp_path / "a.json", tmp_path / "b.json"]
    for path, report in zip(paths, (one, two), strict=True):
        path.write_text(json.dumps(report))
    out = tmp_path / "merged.json"
    done = loadtest(*map(str, paths), "--json", str(out), tool="loadtest-merge")
    assert done.returncode == 0, done.stdout + done.stderr
    merged = json.loads(out.read_text())
    assert merged["sent"] == merged["delivered"] == 5
    assert [row["delivered"] for row in merged["per_second"]] == [4, 1, 0]
    assert Latency.decode(merged["histograms"]["deliver"]).count == 5


@pytest.mark.processes
def test_merge_command_refuses_bad_input_with_one_line(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_report({}, [0.001], 1, 1, "good")))
    other_range = json.loads(good.read_text())
    other_range["histogram_config"] = {"lowest_us": 1, "highest_us": 60_000_000, "significant_figures": 2}
    other_range["runs"][0]["id"] = "other"
    new_keys = ("per_second", "runs", "run_id", "deliver_histograms_per_s", "stalled_s")
    older = {key: value for key, value in json.loads(good.read_text()).items() if key not in new_keys}
    cases = {
        "missing.json": (None, "no such file"),
        "text.json": ("not json", "Expecting value"),
        "list.json": ("[1, 2]", "not a wsrelay loadtest report"),
        "range.json": (json.dumps(other_range), "histogram configuration"),
        "again.json": (good.read_text(), f"run good is already in {good}: the same run twice"),
        "older.json": (json.dumps(older), "written by an older wsrelay loadtest"),
    }
    for name, (content, problem) in cases.items():
        path = tmp_path / name
        if content is not None:
            path.write_text(content)
        done = loadtest(str(good), str(path), "--json", str(tmp_path / "out.json"), tool="loadtest-merge")
        assert done.returncode == 2, name
        assert (
            done.stderr.startswith("wsrelay loadtest-merge: error: ") and len(done.stderr.splitlines()) == 1
        )
        assert problem in done.stderr and (name in done.stderr), done.stderr


# -- the benchmarks built on it still run (tiny parameters; figures are not asserted) ---------------
