"""Injected faults are reproducible: decisions are a function of the seed and the connection's
own counters, so a client that repeats its sequence sees exactly the same faults; connection
lifetimes are drawn the same way; every fault stays inside the fault window."""

from __future__ import annotations

import asyncio
import math
import statistics
import time

import pytest
import websockets
from gateway_support import Served, post_outcomes
from waiting import wait_until_async

from wsrelay.local.faults import Faults, draw


def test_a_draw_is_fixed_by_its_arguments_and_uniform():
    assert draw(7, "post-429", 1, 1) == draw(7, "post-429", 1, 1)
    assert len({draw(7, "post-429", 1, n) for n in range(1000)}) == 1000
    values = [draw(11, "post-410", ordinal, n) for ordinal in range(1, 21) for n in range(1, 501)]
    assert all(0.0 <= v < 1.0 for v in values)
    share = sum(v < 0.25 for v in values) / len(values)
    assert 0.23 < share < 0.27  # 10,000 draws: a fixed set (the seed), so this cannot flake


def test_decisions_depend_on_the_seed_and_the_connections_counters_only():
    faults = Faults(post_410=0.1, post_429=0.3, drop_disconnect=0.5, seed=42)
    again = Faults(post_410=0.1, post_429=0.3, drop_disconnect=0.5, seed=42)
    other = Faults(post_410=0.1, post_429=0.3, drop_disconnect=0.5, seed=43)
    plan = [faults.post_status(ordinal, n) for ordinal in range(1, 6) for n in range(1, 41)]
    assert plan == [again.post_status(ordinal, n) for ordinal in range(1, 6) for n in range(1, 41)]
    assert plan != [other.post_status(ordinal, n) for ordinal in range(1, 6) for n in range(1, 41)]
    assert {410, 429, None} == set(plan)
    drops = [faults.drops_disconnect(ordinal) for ordinal in range(1, 41)]
    assert drops == [again.drops_disconnect(ordinal) for ordinal in range(1, 41)]
    assert True in drops and False in drops
    assert Faults(seed=42).post_status(1, 1) is None and not Faults(seed=42).drops_disconnect(1)


def test_without_a_seed_one_is_drawn_and_kept():
    faults = Faults(post_429=0.5)
    assert isinstance(faults.seed, int)
    assert [faults.post_status(1, n) for n in range(1, 30)] == [
        faults.post_status(1, n) for n in range(1, 30)
    ]


async def subscriber_sees(served: Served, publishes: int, expected: int) -> list[str]:
    """Connection 1 subscribes to every guid, connection 2 publishes each once; then connection
    1 pings again. What connection 1 receives, up to and including the last pong."""
    async with websockets.connect(served.websocket) as router:
        for i in range(publishes):
            await router.send(f"subscribe: seeded-{i}")
        await router.send("ping")
        ran = publishes + 1
        await wait_until_async(lambda: served.invocations() == ran, 10, what="the router's messages")
        async with websockets.connect(served.websocket) as worker:
            for i in range(publishes):
                await worker.send(f'{{"guid":"seeded-{i}"}}')
            await worker.send("ping")
            assert await asyncio.wait_for(worker.recv(), 10) == "pong"  # every publish ran
        await router.send("ping")  # its pong comes after everything the publishes delivered
        return [await asyncio.wait_for(router.recv(), 10) for _ in range(expected)]


@pytest.mark.processes
def test_the_same_sequence_sees_exactly_the_same_faults(tmp_path, served):
    publishes, seed = 24, 7
    # The router's posts in order: a pong, one delivery per publish, a last pong.
    outcomes, answered_429 = post_outcomes(seed, 1 + publishes + 1)
    first_pong, deliveries, last_pong = outcomes[0], outcomes[1:-1], outcomes[-1]
    assert True in deliveries and False in deliveries  # the seed exercises both outcomes
    assert last_pong  # it closes the sequence: nothing can arrive after it unnoticed
    expected = ["pong"] * first_pong
    expected += [f'{{"guid":"seeded-{i}"}}' for i in range(publishes) if deliveries[i]]
    expected += ["pong"]
    runs = []
    for run in range(2):
        server = served(
            "--post-429", "0.5", "--fault-seed", str(seed), "--quiet", directory=tmp_path / f"run{run}"
        )
        received = asyncio.run(subscriber_sees(server, publishes, len(expected)))
        stats = server.stats()
        server.stop()
        assert stats["fault_seed"] == seed
        assert received == expected
        assert stats["posts"]["429"] == answered_429
        runs.append(received)
    assert runs[0] == runs[1]


# -- connection lifetimes and the fault window ------------------------------------------------------


def test_seeded_lifetimes_reproduce_exactly_and_are_exponential():
    faults = Faults(seed=5, lifetime_mean_s=2.0)
    lifetimes = [faults.lifetime_s(ordinal) for ordinal in range(1, 10_001)]
    assert lifetimes == [Faults(seed=5, lifetime_mean_s=2.0).lifetime_s(n) for n in range(1, 10_001)]
    assert lifetimes != [Faults(seed=6, lifetime_mean_s=2.0).lifetime_s(n) for n in range(1, 10_001)]
    assert all(v is not None and v >= 0 for v in lifetimes)
    values = [v for v in lifetimes if v is not None]
    # A fixed set of 10,000 draws (the seed): mean 2 and median 2 ln 2, as an exponential has.
    assert statistics.mean(values) == pytest.approx(2.0, rel=0.05)
    assert statistics.median(values) == pytest.approx(2.0 * math.log(2), rel=0.05)
    assert Faults(seed=5).lifetime_s(1) is None  # without --connection-lifetime-s


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_every_fault_stays_inside_the_window():
    clock = Clock()
    faults = Faults(
        post_410=1.0, drop_disconnect=1.0, seed=1, lifetime_mean_s=1.0, window_s=(20, 40), clock=clock
    )
    faults.start()
    for at, inside in [(0, False), (19.999, False), (20, True), (39.999, True), (40, False), (90, False)]:
        clock.now = 1000.0 + at
        assert faults.active() is inside
        assert (faults.on_post(1, 1) == 410) is inside
        assert faults.on_close(1) is inside
    assert faults.injected == {"post-410": 2, "disconnect": 2}
    assert (
        faults.describe()["faults_injected"]["first_s"],
        faults.describe()["faults_injected"]["last_s"],
    ) == (
        20.0,
        39.999,
    )
    lifetime = faults.lifetime_s(3)
    assert lifetime is not None and lifetime < 20  # this seed's draw, so the cases below hold
    # Opened before the window: the lifetime counts from its start.
    assert faults.close_at(3, 1005.0) == pytest.approx(1020.0 + lifetime)
    assert faults.close_at(3, 1025.0) == pytest.approx(1025.0 + lifetime)  # opened inside it
    assert faults.close_at(3, 1039.99) is None or faults.close_at(3, 1039.99) < 1040.0
    assert faults.close_at(3, 1041.0) is None  # opened after it: never dropped
    drops = [faults.close_at(n, 1000.0) for n in range(1, 500)]
    assert all(at is None or 1020.0 <= at < 1040.0 for at in drops)
    assert faults.describe()["fault_window_s"] == [20.0, 40.0]
    assert Faults(seed=1).describe()["fault_window_s"] is None


async def _ping_until(served: Served, until_s: float, started_at: float) -> list[tuple[float, int]]:
    """Ping on connection after connection until `until_s` after the server started; each
    connection's end as (seconds after the start, close code)."""
    ends = []
    while time.time() - started_at < until_s:
        async with websockets.connect(served.websocket) as ws:
            try:
                while time.time() - started_at < until_s:
                    await ws.send("ping")
                    assert await asyncio.wait_for(ws.recv(), 10) == "pong"
            except websockets.ConnectionClosed as closed:
                code = closed.rcvd.code if closed.rcvd is not None else 1006
                ends.append((time.time() - started_at, code))
    return ends


@pytest.mark.processes
def test_the_gateway_injects_faults_and_drops_connections_only_inside_the_window(served):
    server = served(
        "--quiet", "--post-410", "0.02", "--connection-lifetime-s", "0.1", "--fault-window-s", "1:2"
    )
    stats = server.stats()
    assert stats["fault_window_s"] == [1, 2] and stats["started_at"] <= time.time()
    ends = asyncio.run(_ping_until(server, 3.0, stats["started_at"]))
    injected = server.stats()["faults_injected"]
    assert injected["by_kind"]["lifetime"] > 0 and injected["by_kind"]["post-410"] > 0
    assert 1.0 <= injected["first_s"] and injected["last_s"] <= 2.0  # rounded to ms: 1.9996 reads 2.0
    codes = {code for _, code in ends}
    assert codes == {1001, 1006}  # lifetimes close with 1001, injected 410s drop without a frame
    # A client sees a drop after the gateway decided it: never before the window's start.
    assert all(1.0 <= at < 2.5 for at, _ in ends), ends


@pytest.mark.processes
def test_a_lifetime_close_is_1001_going_away_never_before_its_drawn_lifetime(served):
    server = served("--quiet", "--connection-lifetime-s", "0.2", "--fault-seed", "3")
    expected = Faults(seed=3, lifetime_mean_s=0.2)

    async def lifetimes() -> list[tuple[float, int, str]]:
        seen = []
        for _ in range(5):  # one after the other: ordinals 1..5
            opened = time.monotonic()
            async with websockets.connect(server.websocket) as ws:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(ws.recv(), 30)
            frame = closed.value.rcvd
            assert frame is not None
            seen.append((time.monotonic() - opened, frame.code, frame.reason))
        return seen

    seen = asyncio.run(lifetimes())
    for ordinal, (lived, code, reason) in enumerate(seen, start=1):
        assert (code, reason) == (1001, "Going away")
        assert lived >= expected.lifetime_s(ordinal) - 0.005  # the client opened a little earlier
    assert server.stats()["faults_injected"]["by_kind"] == {"lifetime": 5}
