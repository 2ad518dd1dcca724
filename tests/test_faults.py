"""Injected faults are reproducible: decisions are a function of the seed and the connection's
own counters, so a client that repeats its sequence sees exactly the same faults."""

from __future__ import annotations

import asyncio

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
