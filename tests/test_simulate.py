"""`wsrelay simulate`: every job accounted for in every run, Little's law in a steady state, the
same result for a seed in fresh processes, each relay semantics and compute mode on its own,
bad input refused with one line and exit 2, the JSON shape and the plot (the command-line
convention: tests/test_simulate_cli.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import simpy

from wsrelay.cli.main import main
from wsrelay.tools.prices import load as load_prices
from wsrelay.tools.simulate import compute as compute_modes
from wsrelay.tools.simulate import model
from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.semantics import LegacySemantics, WsrelaySemantics
from wsrelay.tools.simulate.streams import LogNormal, stream
from wsrelay.tools.simulate.timers import TimerQueue

CPU = {op: 0.0015 for op in ("subscribe", "publish", "ack", "unsubscribe", "onconnect", "ondisconnect")}
PRICES = load_prices("us-east-1")
PAIRS = {(c, r) for c in ("ondemand", "provisioned", "managed") for r in ("legacy", "wsrelay")}
SHORT = {
    "steady": ["--duration-s", "240"],
    "spike": ["--duration-s", "240", "--event-at-s", "60", "--spike-s", "30", "--peak-jobs-per-s", "30"],
    "outage": ["--duration-s", "240", "--event-at-s", "60"],
    "az-loss": ["--duration-s", "240", "--event-at-s", "60", "--lmi-scale-delay-s", "60"],
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, dict]:
    """Each scenario, shortened, run once through the command for the tests that read it."""
    out = {}
    for scenario, flags in SHORT.items():
        path = tmp_path_factory.mktemp("sim") / f"{scenario}.json"
        assert main(["simulate", "--scenario", scenario, "--json", str(path), *flags]) == 0
        out[scenario] = json.loads(path.read_text())
    return out


@pytest.mark.parametrize("scenario", list(SHORT))
@pytest.mark.slow
def test_every_job_is_accounted_for_in_every_run(runs, scenario):
    doc = runs[scenario]
    assert {(r["compute"], r["relay"]) for r in doc["runs"]} == PAIRS
    for run in doc["runs"]:
        assert run["jobs"] > 0
        assert run["delivered"] + run["timed_out"] + run["lost"] + run["in_flight"] == run["jobs"], run
        assert run["p99_latency_s"] >= 0 and run["relay_cost_usd"] > 0


@pytest.mark.slow
def test_scenarios_do_what_they_say(runs):
    outage = {(r["compute"], r["relay"]): r for r in runs["outage"]["runs"]}
    assert all(r["relay_failures"] > 0 for r in outage.values())
    steady = {(r["compute"], r["relay"]): r for r in runs["steady"]["runs"]}
    assert all(r["relay_failures"] == 0 for r in steady.values())
    assert all(r["delivered"] < steady[k]["delivered"] for k, r in outage.items())
    spike = runs["spike"]["runs"]
    assert all(r["jobs"] > 1.5 * steady[(r["compute"], r["relay"])]["jobs"] for r in spike)
    # on demand pays cold starts, LMI never does
    assert all((r["cold_starts"] > 0) == (r["compute"] != "managed") for r in spike)


@pytest.mark.slow
def test_littles_law_holds_in_the_steady_state():
    result = model.run(SimConfig(duration_s=900), "steady", "managed", "wsrelay", 3, CPU, PRICES)
    measured, expected = result.little
    assert expected > 10
    assert measured == pytest.approx(expected, rel=0.05)


def run_in_fresh_process(tmp_path, name: str, seed: int, hash_seed: str) -> str:
    out = tmp_path / name
    flags = ["--duration-s", "200", "--event-at-s", "50", "--seed", str(seed), "--json", str(out)]
    subprocess.run(
        [sys.executable, "-m", "wsrelay.cli", "simulate", "--scenario", "outage", *flags],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
    )
    return out.read_text()


@pytest.mark.processes
@pytest.mark.slow
def test_a_seed_gives_the_same_runs_in_fresh_processes(tmp_path):
    first = run_in_fresh_process(tmp_path, "a.json", 7, "1")
    again = run_in_fresh_process(tmp_path, "b.json", 7, "4242")
    assert first == again
    other = run_in_fresh_process(tmp_path, "c.json", 8, "1")
    assert json.loads(other)["runs"] != json.loads(first)["runs"]


# -- relay semantics, each on its own ---------------------------------------------------------


def test_legacy_loses_a_result_published_before_the_subscription_is_visible():
    legacy = LegacySemantics()
    legacy.subscribe("g", "router", effective_at=1.0, lag=2.0)  # visible in the index at 3.0
    lost = legacy.publish("g", "worker", now=2.0)
    assert lost.no_listeners and lost.deliver == []
    assert legacy.publish("g", "worker", now=3.5).deliver == ["router"]  # a resend after the lag


def test_wsrelay_delivers_a_result_published_before_the_subscription():
    ws = WsrelaySemantics()
    stored = ws.publish("g", "worker", now=2.0)
    assert stored.deliver == [] and not stored.no_listeners
    assert ws.subscribe("g", "router", effective_at=3.0) is True  # the stored result is posted
    # a subscribe still running when the result arrives gets it when it completes
    ws.subscribe("h", "router", effective_at=5.0)
    later = ws.publish("h", "worker", now=4.0)
    assert later.deliver == [] and later.deliver_later == [("router", 5.0)]
    assert ws.holds_for("h", "router")


def test_acks_reach_every_publisher_with_wsrelay_and_only_the_last_with_legacy():
    ws, legacy = WsrelaySemantics(), LegacySemantics()
    for s in (ws, legacy):
        s.subscribe("g", "router", 0.0)
        s.publish("g", "worker-1", 1.0)
        s.publish("g", "worker-2", 2.0)  # a duplicate compile (visibility timeout)
    assert ws.ack("g", "router", 3.0) == ["worker-1", "worker-2"]
    assert legacy.ack("g", "router", 3.0) == ["worker-2"]
    # after the ack, a resend is acked at once and relayed to nobody
    resend = ws.publish("g", "worker-1", 4.0)
    assert resend.ack_publisher and resend.deliver == []
    assert not ws.holds_for("g", "router")


def test_legacy_drops_an_ack_whose_sender_record_is_not_readable_yet():
    legacy = LegacySemantics()
    legacy.subscribe("g", "router", 0.0)
    legacy.publish("g", "worker", now=1.0, lag=0.5)
    assert legacy.ack("g", "router", now=1.2) == []
    assert legacy.ack("g", "router", now=1.6) == ["worker"]
    assert legacy.ack("unknown", "router", now=9.0) == []


def test_legacy_unsubscribe_stays_visible_for_the_lag_and_410_changes_nothing():
    legacy = LegacySemantics()
    legacy.subscribe("g", "router", 0.0)
    legacy.unsubscribe("g", "router", now=1.0, lag=0.5)
    assert legacy.visible_subscribers("g", 1.2) == ["router"]
    assert legacy.visible_subscribers("g", 1.6) == []
    ws = WsrelaySemantics()
    ws.subscribe("g", "router", 0.0)
    ws.gone("g", "router")
    assert ws.publish("g", "worker", 1.0).deliver == []


def test_whole_model_legacy_loses_what_wsrelay_delivers_when_the_index_lags():
    # results published within seconds of the subscribe while the index lags ~10 s
    config = SimConfig(
        duration_s=200,
        mean_jobs_per_s=2,
        peak_jobs_per_s=2,
        compile_median_s=0.2,
        compile_p99_s=0.5,
        legacy_lag_median_s=20.0,
        legacy_lag_p99_s=40.0,
    )
    legacy = model.run(config, "steady", "provisioned", "legacy", 5, CPU, PRICES).summary
    ws = model.run(config, "steady", "provisioned", "wsrelay", 5, CPU, PRICES).summary
    assert legacy["lost"] > legacy["jobs"] / 2 and legacy["no_listeners"] > 0
    assert ws["lost"] == 0 and ws["delivered"] >= ws["jobs"] - ws["in_flight"]


# -- compute modes, each on its own -----------------------------------------------------------


def compute(mode: str, **overrides) -> compute_modes.Compute:
    return compute_modes.make(mode, simpy.Environment(), SimConfig(**overrides), CPU)


def test_ondemand_cold_starts_then_reuses_then_throttles_at_its_limit():
    c = compute("ondemand", ondemand_concurrency=2, cold_start_s=0.4, io_wait_ms=10)
    first = c.admit("publish", 0.0)
    assert first is not None and first > 0.4 and c.usage.cold_starts == 1
    assert c.admit("publish", 0.0) is not None and c.usage.cold_starts == 2
    assert c.admit("publish", 0.0) is None and c.usage.throttles == 1  # both environments busy
    assert c.admit("publish", 1.0) == pytest.approx(1.0 + 0.01 + 0.0015 / (512 / 1769))  # warm
    assert c.usage.cold_starts == 2


def test_provisioned_is_warm_up_to_its_count_then_overflows_cold():
    c = compute("provisioned", provisioned=2, cold_start_s=0.4)
    assert [c.admit("ack", 0.0) for _ in range(2)] == [pytest.approx(0.0252, abs=1e-3)] * 2
    assert c.usage.cold_starts == 0
    assert c.admit("ack", 0.0) > 0.4 and c.usage.cold_starts == 1


def test_managed_has_no_cold_starts_and_throttles_above_its_processes():
    c = compute("managed", lmi_min_environments=3, lmi_concurrency=2)
    ends = [c.admit("subscribe", 0.0) for _ in range(7)]
    assert all(e is not None and e < 0.1 for e in ends[:6]) and ends[6] is None
    assert c.usage.cold_starts == 0 and c.usage.throttles == 1


def test_managed_scales_out_at_most_doubling_within_five_minutes():
    env = simpy.Environment()
    c = compute_modes.make("managed", env, SimConfig(lmi_scale_delay_s=10, lmi_max_environments=100), CPU)
    c.start()

    def flood():
        while True:
            for _ in range(300):
                c.admit("publish", env.now)
            yield env.timeout(1)

    env.process(flood())
    env.run(until=299)
    assert c.environments <= 6  # 3 at the start: never more than doubled within 5 minutes
    env.run(until=1000)
    assert c.environments > 6 and c.usage.throttles > 0


def test_outage_fails_every_invocation_in_its_window():
    c = compute("managed")
    c.fail_between(10.0, 20.0)
    assert c.admit("publish", 9.9) is not None
    assert c.admit("publish", 10.0) is None and c.admit("publish", 19.9) is None
    assert c.admit("publish", 20.0) is not None and c.usage.failures == 2


def test_relay_cost_bills_what_each_mode_bills():
    from wsrelay.tools.simulate.billing import relay_cost

    config = SimConfig()
    hour = 3600.0
    managed = compute("managed")
    managed.finish(0.0)
    managed.usage.environment_seconds = 3 * hour  # 3 environments all hour
    # 3 + 2 x 3 environments of 1 vCPU on 2-vCPU c8g.large: 5 instances, the 15% fee, 3 NAT gateways
    expected = 5 * 0.07975 * 1.15 + 3 * 0.045
    assert relay_cost(config, managed, PRICES, hour) == pytest.approx(expected, rel=1e-6)
    provisioned = compute("provisioned")
    kept = (5 * 0.5 + 2 * 0.125) * hour * 0.0000033334
    assert relay_cost(config, provisioned, PRICES, hour) == pytest.approx(kept, rel=1e-6)
    ondemand = compute("ondemand")
    ondemand.admit("publish", 0.0)
    assert relay_cost(config, ondemand, PRICES, hour) == pytest.approx(
        0.2e-6 + ondemand.usage.ondemand_gb_s * 0.0000133334, rel=1e-6
    )


def test_relay_cost_counts_instances_by_memory_when_memory_binds():
    from wsrelay.tools.simulate.billing import relay_cost

    # 4096 MB at 4 GiB per vCPU: 1 vCPU and 4 GiB per environment, so a c8g.large (2 vCPU, 4 GiB)
    # holds one; 3 + 2 x 3 environments need 9 instances, not the 5 their vCPUs alone would
    config = SimConfig(managed_memory_mb=4096, memory_gib_per_vcpu=4)
    managed = compute_modes.make("managed", simpy.Environment(), config, CPU)
    managed.finish(0.0)
    managed.usage.environment_seconds = 3 * 3600.0
    expected = 9 * 0.07975 * 1.15 + 3 * 0.045
    assert relay_cost(config, managed, PRICES, 3600.0) == pytest.approx(expected, rel=1e-6)


# -- building blocks --------------------------------------------------------------------------


def test_timer_queue_fires_only_what_is_not_done_and_refuses_decreasing_deadlines():
    env = simpy.Environment()
    done: set[str] = set()
    fired: list[tuple[float, str]] = []
    timers: TimerQueue[str] = TimerQueue(
        env, lambda item: item in done, lambda item: fired.append((env.now, item))
    )
    timers.add(1.0, "a")
    timers.add(2.0, "b")
    timers.add(2.0, "c")
    done.add("b")
    env.run(until=5)
    assert fired == [(1.0, "a"), (2.0, "c")]
    timers.add(9.0, "d")
    with pytest.raises(ValueError):
        timers.add(8.0, "earlier than the last")


def test_streams_are_named_and_lognormal_matches_its_median_and_p99():
    assert stream(1, "compile").random() == stream(1, "compile").random()
    assert stream(1, "compile").random() != stream(1, "arrivals").random()
    dist = LogNormal(1.5, 15.0)
    rng = stream(2, "check")
    draws = sorted(dist.draw(rng) for _ in range(20_000))
    assert draws[10_000] == pytest.approx(1.5, rel=0.05)
    assert draws[19_800] == pytest.approx(15.0, rel=0.15)


# -- the command ------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_plot_is_one_png_with_a_panel_per_quantity(capsys, tmp_path):
    path = tmp_path / "az-loss.png"
    assert main(["simulate", "--scenario", "az-loss", "--plot", str(path), *SHORT["az-loss"]]) == 0
    captured = capsys.readouterr()
    assert list(tmp_path.iterdir()) == [path] and path.read_bytes()[:4] == b"\x89PNG"
    assert f"wsrelay simulate: wrote {path}" in captured.err
    assert "managed" in captured.out and "wsrelay" in captured.out
    from PIL import Image

    with Image.open(path) as image:  # four panels stacked: taller than wide
        width, height = image.size
    assert height > width


def test_the_plot_figure_has_the_four_panels_and_every_pair():
    from wsrelay.tools.simulate import plot
    from wsrelay.tools.simulate.metrics import Series

    series = Series(
        t=[10.0, 20.0], queue_depth=[1, 2], workers=[3, 4], throttles=[0, 1], latency_p99_s=[0.1, 0.2]
    )
    runs = [(c, r, series) for c, r in sorted(PAIRS)]
    fig = plot.figure("spike", runs)
    try:
        titles = [ax.get_title() for ax in fig.axes]
        assert titles == [title for _, title, _ in plot.PANELS]
        assert all(len(ax.get_lines()) == len(PAIRS) for ax in fig.axes)
        assert fig.axes[-1].get_xlabel() == "minutes"
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)


def error_line(capsys, *flags: str) -> str:
    try:
        code = main(["simulate", *flags])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("wsrelay simulate: error: "), err
    return lines[0]


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--scenario", "flood"], "--scenario"),
        ([], "the following arguments are required: --scenario"),
        (["--scenario", "steady", "--seed", "abc"], "--seed"),
        (["--scenario", "steady", "--duration-s", "-5"], "--duration-s must be a finite number"),
        (["--scenario", "steady", "--duration-s", "20"], "--duration-s 20 must be at least 10 samples"),
        (["--scenario", "steady", "--workers-min", "0"], "--workers-min must be at least 1"),
        (["--scenario", "steady", "--workers-max", "5"], "--workers-max 5 must be at least --workers-min 20"),
        (["--scenario", "steady", "--compile-p99-s", "1"], "--compile-p99-s 1 must be at least"),
        (["--scenario", "steady", "--memory-gib-per-vcpu", "3"], "--memory-gib-per-vcpu must be 2, 4 or 8"),
        (
            ["--scenario", "steady", "--managed-memory-mb", "1024"],
            "--managed-memory-mb must be at least 2048",
        ),
        (["--scenario", "steady", "--managed-memory-mb", "3072"], "a multiple of 2048"),
        (["--scenario", "steady", "--region", "eu-west-1"], "--region eu-west-1: no prices"),
        (["--scenario", "steady", "--region", "moon"], "--region must be an AWS region name"),
        (["--scenario", "steady", "--instance-type", "c9x.large"], "no price for c9x.large"),
        (["--scenario", "steady", "--lmi-target-utilization", "2"], "--lmi-target-utilization must be"),
        (["--scenario", "steady", "--lmi-concurrency", "0"], "--lmi-concurrency must be 1..1600"),
        (["--scenario", "steady", "--cpu-factor", "0"], "--cpu-factor must be a positive"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, flags, says):
    assert says in error_line(capsys, *flags)


def test_bad_files_exit_2_with_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("workers_min = [")
    assert "not valid TOML" in error_line(capsys, "--scenario", "steady", "--config", str(bad))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("workers = 3\n")
    assert "unknown key 'workers'" in error_line(capsys, "--scenario", "steady", "--config", str(unknown))
    typed = tmp_path / "typed.toml"
    typed.write_text("routers = 2.5\n")
    assert "routers: expected an integer" in error_line(
        capsys, "--scenario", "steady", "--config", str(typed)
    )
    measured = tmp_path / "measured.json"
    measured.write_text('{"per_job_mean": {}}')
    assert "per-operation" in error_line(capsys, "--scenario", "steady", "--measured", str(measured))
    missing = str(tmp_path / "none.json")
    assert "--measured" in (line := error_line(capsys, "--scenario", "steady", "--measured", missing))
    assert "no such file" in line
    assert "is a folder" in error_line(capsys, "--scenario", "steady", "--json", str(tmp_path))
    assert "expected a FILE.png" in error_line(capsys, "--scenario", "steady", "--plot", str(bad))


def test_toml_config_is_applied(capsys, tmp_path):
    config = tmp_path / "sim.toml"
    config.write_text("duration_s = 120\nmean_jobs_per_s = 1\nrouters = 2\n")
    out = tmp_path / "out.json"
    assert main(["simulate", "--scenario", "steady", "--config", str(config), "--json", str(out)]) == 0
    capsys.readouterr()
    doc = json.loads(out.read_text())
    assert doc["duration_s"] == 120 and all(r["jobs"] < 300 for r in doc["runs"])
