"""The mechanism of each scenario the audit asked for (issue 20): `throttle` separates the compute
modes, `reconnect` makes a worker fail permanently when `$connect` cannot be served, `cold`
produces resends."""

from __future__ import annotations

import dataclasses

import pytest
import simpy

from wsrelay.tools.prices import load as load_prices
from wsrelay.tools.simulate import compute as compute_modes
from wsrelay.tools.simulate import model
from wsrelay.tools.simulate.link import Link, doubling_delay, fixed_delay
from wsrelay.tools.simulate.parameters import COMPUTE_MODES, SimConfig
from wsrelay.tools.simulate.relay_service import ProductRelay
from wsrelay.tools.simulate.switchboard import Switchboard

CPU = {op: 0.0015 for op in ("subscribe", "publish", "ack", "unsubscribe", "onconnect", "ondisconnect")}
PRICES = load_prices("us-east-1")


def share(summary: dict) -> float:
    return 100.0 * summary["delivered"] / summary["jobs"]


# -- throttle ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_throttle_separates_the_compute_modes_at_the_defaults():
    """wsrelay with router ack: delivered/jobs differs between compute modes by at least 2
    percentage points at the defaults (seed 1, one simulated hour each)."""
    shares = {
        mode: share(model.run(SimConfig(), "throttle", mode, "wsrelay", "router", 1, CPU, PRICES).summary)
        for mode in COMPUTE_MODES
    }
    assert max(shares.values()) - min(shares.values()) >= 2.0, shares
    assert shares["ondemand"] < shares["provisioned"] <= shares["managed"] + 0.1, shares


def test_throttle_limits_on_demand_by_its_share_and_lmi_by_its_processes():
    config = SimConfig(duration_s=300, event_at_s=60, throttle_s=180)
    runs = {
        mode: model.run(config, "throttle", mode, "wsrelay", "router", 2, CPU, PRICES).summary
        for mode in COMPUTE_MODES
    }
    assert runs["ondemand"]["relay_throttles"] > 50  # 3 of the account's 1,000 left to the relay
    assert runs["managed"]["relay_throttles"] == 0  # 3 environments x 16 processes hold the peak
    tight = dataclasses.replace(config, lmi_min_environments=1, lmi_max_environments=1, lmi_concurrency=1)
    squeezed = model.run(tight, "throttle", "managed", "wsrelay", "router", 2, CPU, PRICES).summary
    assert squeezed["relay_throttles"] > 50  # one process: LMI is limited by its processes
    unsqueezed = dataclasses.replace(config, ondemand_share=1.0)
    free = model.run(unsqueezed, "throttle", "ondemand", "wsrelay", "router", 2, CPU, PRICES).summary
    assert free["relay_throttles"] == 0 and share(free) > share(runs["ondemand"])


# -- reconnect -----------------------------------------------------------------------------------


class Nobody:
    """An endpoint that ignores what it receives."""

    def on_frame(self, connection_id: str, text: str) -> None:
        pass

    def on_closed(self, connection_id: str) -> None:
        pass


NOBODY = Nobody()


class RefusingFront:
    """A relay front whose `$connect` is never served (throttled or failing)."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.switchboard = Switchboard(env, 0.0)
        self.tries: list[float] = []

    def connect(self, connection_id, endpoint, done) -> None:
        self.tries.append(self.env.now)
        done(False)


def test_a_worker_fails_permanently_after_five_refused_connects_and_a_router_after_ten():
    env = simpy.Environment()
    front = RefusingFront(env)
    dead: list[str] = []
    worker = Link(
        env, front, NOBODY, "w0", 7200, doubling_delay(1.0, 5), lambda: None, lambda: dead.append("w")
    )
    worker.open_existing(closes_in_s=10.0)
    env.run(until=100)
    assert front.tries == [11.0, 13.0, 17.0, 25.0, 41.0]  # 1, 2, 4, 8, 16 s after the close
    assert dead == ["w"] and worker.dead and not worker.up
    front.tries.clear()
    router = Link(
        env, front, NOBODY, "r0", 7200, fixed_delay(5.0, 10), lambda: None, lambda: dead.append("r")
    )
    router.open_existing(closes_in_s=0.0)
    env.run(until=200)
    assert front.tries == [100.0 + 5 * i for i in range(1, 11)] and dead == ["w", "r"]


def test_a_served_connect_opens_a_new_connection_id():
    env = simpy.Environment()
    functions = compute_modes.make("managed", env, SimConfig(), CPU, 1)
    front = ProductRelay(env, functions, Switchboard(env, 0.015), "router", 600)
    ups: list[str] = []
    link = Link(
        env, front, NOBODY, "w0", 7200, doubling_delay(1.0, 5), lambda: ups.append(link.id), lambda: None
    )
    link.open_existing(closes_in_s=5.0)
    assert front.switchboard.open.keys() == {"w0.0"}
    env.run(until=10)
    assert ups == ["w0.1"] and front.switchboard.open.keys() == {"w0.1"} and link.reconnects == 1


@pytest.mark.slow
def test_reconnect_makes_workers_fail_permanently_when_connect_cannot_be_served():
    """An outage longer than the worker's 1+2+4+8+16 = 31 s of tries: every worker fails in
    every compute mode; a 30 s one (the default) is survived."""
    short = SimConfig(duration_s=400, event_at_s=100)
    long = dataclasses.replace(short, outage_s=40.0)
    for mode in COMPUTE_MODES:
        survived = model.run(short, "reconnect", mode, "wsrelay", "stored", 4, CPU, PRICES).summary
        failed = model.run(long, "reconnect", mode, "wsrelay", "stored", 4, CPU, PRICES).summary
        assert survived["worker_failures"] == 0 and survived["dead_routers"] == 0, mode
        assert failed["worker_failures"] >= 20, mode  # the whole fleet (20 workers at the start)
        assert failed["dead_routers"] == 0  # routers try for 50 s
        assert share(failed) < share(survived) - 10, mode  # no worker left until replacements


def test_reconnect_connects_are_refused_when_the_accounts_concurrency_is_gone():
    """$connect is an invocation like any other: with no on-demand concurrency left to the relay
    (the throttle scenario's squeeze over the whole run), a worker that must reconnect fails."""
    config = SimConfig(duration_s=300, event_at_s=10, throttle_s=290, ondemand_share=0.0, connection_max_s=60)
    summary = model.run(config, "throttle", "ondemand", "wsrelay", "stored", 1, CPU, PRICES).summary
    assert summary["worker_failures"] > 0 and summary["dead_routers"] > 0


# -- cold ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cold_starts_past_the_ack_timeout_produce_resends():
    """Cold starts whose tail passes the worker's 3 s ack wait make it resend; LMI, which never
    starts cold, does not (stored ack: the only other resends come from reconnects)."""
    config = SimConfig(
        duration_s=900, event_at_s=60, reclaim_every_s=20, cold_start_median_s=1.0, cold_start_p99_s=8.0
    )
    ondemand = model.run(config, "cold", "ondemand", "wsrelay", "stored", 3, CPU, PRICES).summary
    managed = model.run(config, "cold", "managed", "wsrelay", "stored", 3, CPU, PRICES).summary
    steady = model.run(config, "steady", "ondemand", "wsrelay", "stored", 3, CPU, PRICES).summary
    assert ondemand["cold_starts"] > 5 * max(1, steady["cold_starts"])
    assert ondemand["worker_resends"] >= 10, ondemand
    assert ondemand["worker_resends"] > 3 * max(1, managed["worker_resends"], steady["worker_resends"])
