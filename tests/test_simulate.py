"""`wsrelay simulate`: every job accounted for in every run of every scenario, Little's law in the
steady state of every scenario, byte-identical JSON for a seed in fresh processes, the product's
own relay in the runs, the legacy relay's rules and each compute mode on its own (the new
scenarios' mechanisms: tests/test_simulate_scenarios.py; the report: tests/test_simulate_report.py;
the command-line convention: tests/test_simulate_cli.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import simpy

from wsrelay.cli.main import main
from wsrelay.relay import Relay
from wsrelay.stores.memory import MemoryStore
from wsrelay.tools.prices import load as load_prices
from wsrelay.tools.simulate import compute as compute_modes
from wsrelay.tools.simulate import model
from wsrelay.tools.simulate.legacy import LegacySemantics
from wsrelay.tools.simulate.parameters import NAMES, SimConfig
from wsrelay.tools.simulate.relay_service import ProductRelay
from wsrelay.tools.simulate.runs import PAIRS
from wsrelay.tools.simulate.streams import LogNormal, stream
from wsrelay.tools.simulate.timers import TimerQueue

CPU = {op: 0.0015 for op in ("subscribe", "publish", "ack", "unsubscribe", "onconnect", "ondisconnect")}
PRICES = load_prices("us-east-1")
EVENT = ["--duration-s", "240", "--event-at-s", "60"]
SHORT = {  # each scenario shortened, its event at minute 1
    "steady": ["--duration-s", "240"],
    "spike": [*EVENT, "--spike-s", "30", "--spike-factor", "3"],
    "outage": EVENT,
    "az-loss": [*EVENT, "--lmi-scale-delay-s", "60"],
    "throttle": [*EVENT, "--throttle-s", "120"],
    "reconnect": EVENT,
    "cold": [*EVENT, "--reclaim-every-s", "30"],
}


def test_every_scenario_has_a_short_form():
    assert set(SHORT) == set(NAMES)


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
    assert [(r["compute"], r["relay"], r["publisher_ack"]) for r in doc["runs"]] == list(PAIRS)
    for run in doc["runs"]:
        assert run["jobs"] > 0
        assert run["delivered"] + run["timed_out"] + run["lost"] + run["in_flight"] == run["jobs"], run
        assert run["relay_cost_usd"] > 0


@pytest.mark.slow
def test_scenarios_do_what_they_say(runs):
    def by_pair(name):
        return {(r["compute"], r["relay"], r["publisher_ack"]): r for r in runs[name]["runs"]}

    steady, outage, spike = by_pair("steady"), by_pair("outage"), by_pair("spike")
    assert all(r["relay_failures"] == 0 for r in steady.values())
    assert all(r["relay_failures"] > 0 for r in outage.values())
    assert all(r["delivered"] <= steady[k]["delivered"] for k, r in outage.items())
    assert all(r["jobs"] > 1.5 * steady[k]["jobs"] for k, r in spike.items())
    reconnect = by_pair("reconnect")
    assert all(r["router_reconnects"] >= 8 for r in reconnect.values())  # every router, at the outage
    throttle = by_pair("throttle")
    assert all(r["relay_throttles"] > 0 for k, r in throttle.items() if k[0] == "ondemand")
    cold = by_pair("cold")
    assert all(r["cold_starts"] > steady[k]["cold_starts"] for k, r in cold.items() if k[0] == "ondemand")
    assert all(r["cold_starts"] == 0 for k, r in cold.items() if k[0] == "managed")  # LMI never starts cold


@pytest.mark.parametrize("scenario", list(SHORT))
@pytest.mark.slow
def test_littles_law_holds_in_the_steady_state(scenario):
    """Before the event (steady: the whole run), jobs in the system sampled every second equal
    the arrival rate x their mean time in the system."""
    config = SimConfig(duration_s=900, event_at_s=600, mean_jobs_per_s=5)
    result = model.run(config, scenario, "provisioned", "wsrelay", "router", 3, CPU, PRICES)
    measured, expected = result.little
    assert expected > 10
    assert measured == pytest.approx(expected, rel=0.05)


SCRIPT = """
import sys
from wsrelay.cli.main import main
out = sys.argv[1]
for scenario, flags in {short!r}.items():
    json_path = f"{{out}}/{{scenario}}.json"
    assert main(["simulate", "--scenario", scenario, "--seed", sys.argv[2], "--json", json_path, *flags]) == 0
"""


def run_in_fresh_process(tmp_path, name: str, seed: int, hash_seed: str) -> dict[str, str]:
    """Every scenario, shortened, in one fresh process: {scenario: the JSON text}."""
    out = tmp_path / name
    out.mkdir()
    subprocess.run(
        [sys.executable, "-c", SCRIPT.format(short=SHORT), str(out), str(seed)],
        check=True,
        capture_output=True,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        timeout=300,
    )
    return {scenario: (out / f"{scenario}.json").read_text() for scenario in SHORT}


@pytest.mark.processes
@pytest.mark.slow
def test_a_seed_gives_byte_identical_json_in_fresh_processes(tmp_path):
    first = run_in_fresh_process(tmp_path, "a", 7, "1")
    again = run_in_fresh_process(tmp_path, "b", 7, "4242")
    for scenario in SHORT:
        assert first[scenario] == again[scenario], scenario
    other = run_in_fresh_process(tmp_path, "c", 8, "1")
    assert json.loads(other["steady"])["runs"] != json.loads(first["steady"])["runs"]


# -- the relays ----------------------------------------------------------------------------------


def test_the_wsrelay_runs_drive_the_products_relay_over_the_memory_store():
    env = simpy.Environment()
    functions = compute_modes.make("managed", env, SimConfig(), CPU, 1)
    from wsrelay.tools.simulate.switchboard import Switchboard

    front = ProductRelay(env, functions, Switchboard(env, 0.015), "stored", 600)
    assert type(front.relay) is Relay and type(front.store) is MemoryStore
    assert front.relay.publisher_ack == "stored"
    with pytest.raises(ValueError):
        ProductRelay(env, functions, Switchboard(env, 0.015), "sometimes", 600)


def test_the_copy_of_wsrelays_rules_is_gone():
    import importlib.util

    assert importlib.util.find_spec("wsrelay.tools.simulate.semantics") is None


def test_legacy_loses_a_result_published_before_the_subscription_is_visible():
    legacy = LegacySemantics()
    legacy.subscribe("g", "router", now=1.0, lag=2.0)  # visible in the index at 3.0
    assert legacy.publish("g", "worker", now=2.0) == []  # "No listeners": the result is gone
    assert legacy.publish("g", "worker", now=3.5) == ["router"]  # a resend after the lag


def test_legacy_acks_only_the_last_sender_and_drops_an_ack_it_cannot_read_yet():
    legacy = LegacySemantics()
    legacy.subscribe("g", "router", 0.0)
    legacy.publish("g", "worker-1", 1.0)
    legacy.publish("g", "worker-2", 2.0, read_lag=0.5)  # a duplicate compile
    assert legacy.ack("g", now=2.2) is None  # the sender record is not readable yet: dropped
    assert legacy.ack("g", now=2.6) == "worker-2"  # never worker-1
    assert legacy.ack("unknown", now=9.0) is None


def test_legacy_unsubscribe_stays_visible_for_the_lag():
    legacy = LegacySemantics()
    legacy.subscribe("g", "router", 0.0)
    legacy.unsubscribe("g", "router", now=1.0, lag=0.5)
    assert legacy.visible_subscribers("g", 1.2) == ["router"]
    assert legacy.visible_subscribers("g", 1.6) == []


def test_whole_model_legacy_loses_what_wsrelay_delivers_when_the_index_lags():
    # results published within a second of the subscribe while the index lags ~20 s
    config = SimConfig(
        duration_s=200,
        mean_jobs_per_s=2,
        compile_median_s=0.2,
        compile_p99_s=0.5,
        legacy_lag_median_s=20.0,
        legacy_lag_p99_s=40.0,
    )
    legacy = model.run(config, "steady", "provisioned", "legacy", "router", 5, CPU, PRICES).summary
    assert legacy["lost"] > legacy["jobs"] / 2 and legacy["relay_counts"]["NoListeners"] > 0
    for ack in ("router", "stored"):
        ws = model.run(config, "steady", "provisioned", "wsrelay", ack, 5, CPU, PRICES).summary
        assert ws["lost"] == 0 and ws["delivered"] >= ws["jobs"] - ws["in_flight"]


def test_stored_ack_frees_workers_the_router_ack_keeps_waiting():
    """The product's two ack modes in the model: with the ack on store, a worker never waits for
    a router that subscribed after the job was compiled (the spike's stale jobs)."""
    config = SimConfig(duration_s=300, subscribe_delay_s=0.0, compile_median_s=0.2, compile_p99_s=0.5)
    stale = {"router_timeout_s": 0.1}  # every router gives up before the result exists
    import dataclasses

    config = dataclasses.replace(config, **stale)
    router = model.run(config, "steady", "managed", "wsrelay", "router", 2, CPU, PRICES).summary
    stored = model.run(config, "steady", "managed", "wsrelay", "stored", 2, CPU, PRICES).summary
    assert router["worker_give_ups"] > 100 and stored["worker_give_ups"] == 0
    assert stored["relay_counts"]["AcksOnStore"] > 100


# -- compute modes, each on its own ----------------------------------------------------------------


def functions(mode: str, **overrides) -> compute_modes.Functions:
    return compute_modes.make(mode, simpy.Environment(), SimConfig(**overrides), CPU, 1)


def test_ondemand_cold_starts_then_reuses_then_throttles_at_the_accounts_limit():
    f = functions("ondemand", account_concurrency=2, io_wait_ms=10)
    send = f.sendmessage
    first = send.admit("publish", 0.0)
    assert first is not None and first > 0.01 and send.usage.cold_starts == 1
    assert send.admit("publish", 0.0) is not None and send.usage.cold_starts == 2
    assert send.admit("publish", 0.0) is None and send.usage.throttles == 1  # the account is full
    assert f.onconnect.admit("onconnect", 0.0) is None  # shared by every function of the account
    later = 100.0  # both cold starts have ended
    assert send.admit("publish", later) == pytest.approx(later + 0.01 + 0.0015 / (512 / 1769))  # warm
    assert send.usage.cold_starts == 2


def test_the_squeeze_leaves_the_relay_its_share_of_the_account():
    f = functions("ondemand", account_concurrency=1000, ondemand_share=0.002)
    f.account.squeeze(10.0, 20.0)
    send = f.sendmessage
    assert [send.admit("ack", 10.0) is not None for _ in range(3)] == [True, True, False]
    assert all(send.admit("ack", 20.0) is not None for _ in range(50))  # after the squeeze


def test_provisioned_is_warm_up_to_its_count_then_overflows_on_demand():
    f = functions("provisioned", provisioned=2)
    send = f.sendmessage
    assert [send.admit("ack", 0.0) for _ in range(2)] == [pytest.approx(0.0252, abs=1e-3)] * 2
    assert send.usage.cold_starts == 0
    assert send.admit("ack", 0.0) > 0.03 and send.usage.cold_starts == 1


def test_cold_starts_follow_their_lognormal_and_reclaim_makes_them_cold_again():
    env = simpy.Environment()
    config = SimConfig(cold_start_median_s=0.4, cold_start_p99_s=4.0, account_concurrency=10_000)
    f = compute_modes.make("ondemand", env, config, CPU, 1)
    send = f.sendmessage
    warm = 0.02 + 0.0015 / (512 / 1769)
    durations = [send.admit("subscribe", 0.0) for _ in range(2000)]
    cold = sorted(d - warm for d in durations if d is not None)
    assert len(cold) == 2000 and cold[1000] == pytest.approx(0.4, rel=0.15)
    assert sum(c > 3.0 for c in cold) > 10  # the tail passes the worker's 3 s ack timeout
    before = send.usage.cold_starts
    assert send.admit("subscribe", 100.0) is not None and send.usage.cold_starts == before  # warm
    env.run(until=101.0)
    f.account.reclaim()
    send.admit("subscribe", 101.0)
    assert send.usage.cold_starts == before + 1


def test_managed_has_no_cold_starts_and_throttles_above_its_processes():
    f = functions("managed", lmi_min_environments=3, lmi_concurrency=2)
    ends = [f.sendmessage.admit("subscribe", 0.0) for _ in range(7)]
    assert all(e is not None and e < 0.1 for e in ends[:6]) and ends[6] is None
    assert f.sendmessage.usage.cold_starts == 0 and f.sendmessage.usage.throttles == 1
    assert f.onconnect.admit("onconnect", 0.0) is not None  # its own environments


def test_managed_scales_out_at_most_doubling_within_five_minutes():
    env = simpy.Environment()
    config = SimConfig(lmi_scale_delay_s=10, lmi_max_environments=100)
    f = compute_modes.make("managed", env, config, CPU, 1)
    f.start()
    send = f.sendmessage

    def flood():
        while True:
            for _ in range(300):
                send.admit("publish", env.now)
            yield env.timeout(1)

    env.process(flood())
    env.run(until=299)
    assert send.environments <= 6  # 3 at the start: never more than doubled within 5 minutes
    env.run(until=1000)
    assert send.environments > 6 and send.usage.throttles > 0


def test_an_outage_fails_every_invocation_of_every_function_in_its_window():
    f = functions("managed")
    f.fail_between(10.0, 20.0)
    assert f.sendmessage.admit("publish", 9.9) is not None
    assert f.sendmessage.admit("publish", 10.0) is None and f.onconnect.admit("onconnect", 19.9) is None
    assert f.sendmessage.admit("publish", 20.0) is not None and f.usage.failures == 2


def test_relay_cost_bills_what_each_mode_bills():
    from wsrelay.tools.simulate.billing import relay_cost

    config = SimConfig()
    hour = 3600.0
    managed = functions("managed")
    managed.finish(0.0)
    managed.sendmessage.usage.environment_seconds = 3 * hour  # 3 environments all hour
    managed.onconnect.usage.environment_seconds = 3 * hour
    # 3 + 3 + 3 (ondisconnect) environments of 1 vCPU on 2-vCPU c8g.large: 5 instances, the 15%
    # fee, and a public IPv4 address each
    expected = 5 * 0.07975 * 1.15 + 5 * 0.005
    assert relay_cost(config, managed, PRICES, hour) == pytest.approx(expected, rel=1e-6)
    nat = SimConfig(egress="nat")
    assert relay_cost(nat, managed, PRICES, hour) == pytest.approx(5 * 0.07975 * 1.15 + 3 * 0.045, rel=1e-6)
    provisioned = functions("provisioned")
    kept = (5 * 0.5 + 2 * 0.125) * hour * 0.0000033334
    assert relay_cost(config, provisioned, PRICES, hour) == pytest.approx(kept, rel=1e-6)
    ondemand = functions("ondemand")
    ondemand.sendmessage.admit("publish", 0.0)
    gb_s = ondemand.sendmessage.usage.ondemand_gb_s
    assert relay_cost(config, ondemand, PRICES, hour) == pytest.approx(0.2e-6 + gb_s * 0.0000133334, rel=1e-6)


# -- building blocks -------------------------------------------------------------------------------


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


def test_the_queue_drops_a_job_sent_again_within_its_dedup_interval():
    from wsrelay.tools.simulate.jobs import Job
    from wsrelay.tools.simulate.queue import JobQueue

    env = simpy.Environment()
    queue = JobQueue(env, SimConfig(queue_dedup_s=300, queue_retention_s=1000), lambda: None)
    job = Job(1, 0, 0.0, 60.0)
    queue.put(job)
    queue.put(job)
    assert queue.depth() == 1 and queue.deduplicated == 1
    env.run(until=301)
    queue.put(job)  # outside the interval: a new message
    assert queue.depth() == 2
    env.run(until=1002)
    assert queue.depth() == 1 and queue.expired == 1  # the first one is past the retention period
