"""The real-client case of issue 17 with the Python clients: routers and workers against a real
`wsrelay serve` that drops posts (410), throttles them (429) and loses $disconnects, from a seed.
In ``stored`` mode every publish is acked and every result delivered; the Publisher and the
Subscriber work in both modes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from wsrelay.client import Backoff, Publisher, PublisherConfig, Subscriber, SubscriberConfig
from wsrelay.protocol import STORED_ACKNOWLEDGER

pytestmark = pytest.mark.processes

FAST = Backoff(base_s=0.01, cap_s=0.1)
FAULTS = ("--post-410", "0.05", "--post-429", "0.2", "--drop-disconnect", "0.2")
JOBS = 20
WORKERS = 4


async def jobs_through(url: str, jobs: int = JOBS, workers: int = WORKERS) -> dict:
    """`jobs` results published concurrently by `workers` Publishers to one Subscriber that
    subscribed first (the router's order); what came back."""
    guids = [f"f-{uuid.uuid4().hex[:10]}" for _ in range(jobs)]
    async with Subscriber(SubscriberConfig(url, backoff=FAST)) as sub:
        publishers = [
            Publisher(PublisherConfig(url, backoff=Backoff(0.01, 0.1, max_attempts=20)))
            for _ in range(workers)
        ]
        for pub in publishers:
            await pub.start()
        try:
            for g in guids:
                await sub.subscribe(g)
            publishes = [
                publishers[i % workers].publish(g, {"code": 0, "stdout": [{"text": g}]})
                for i, g in enumerate(guids)
            ]
            acks = await asyncio.gather(*publishes, return_exceptions=True)
            results = await asyncio.gather(*(sub.wait(g, 60) for g in guids), return_exceptions=True)
        finally:
            for pub in publishers:
                await pub.close()
        return {
            "guids": guids,
            "acks": acks,
            "results": results,
            "reconnects": sub.reconnects + sum(pub.reconnects for pub in publishers),
            "resends": sum(pub.stats.resends for pub in publishers),
        }


@pytest.mark.parametrize("seed", [17, 42])
def test_stored_mode_under_faults_acks_every_publish_and_delivers_every_result(tmp_path, served, seed):
    server = served("--quiet", "--publisher-ack", "stored", *FAULTS, "--fault-seed", str(seed))
    done = asyncio.run(asyncio.wait_for(jobs_through(server.websocket), 120))
    stats = server.stats()
    server.stop()
    failed = [a for a in done["acks"] if isinstance(a, BaseException)]
    assert failed == [], failed
    lost = [g for g, r in zip(done["guids"], done["results"], strict=True) if isinstance(r, BaseException)]
    assert lost == []
    for g, result in zip(done["guids"], done["results"], strict=True):
        assert result.data["stdout"] == [{"text": g}]
    # Acked on store, or, for a publisher whose connection dropped under its ack and resent after
    # the router's ack, at once with the router's connection id.
    assert all(ack.acknowledged_by for ack in done["acks"])
    assert any(ack.on_store for ack in done["acks"])
    # the faults were really injected (the seed draws the same ones each run)
    assert stats["posts"].get("410", 0) + stats["posts"].get("429", 0) > 0


@pytest.mark.parametrize("mode", ["stored", "router"])
def test_the_clients_work_in_both_modes(tmp_path, served, mode):
    server = served("--quiet", "--publisher-ack", mode)
    done = asyncio.run(asyncio.wait_for(jobs_through(server.websocket, jobs=6, workers=2), 60))
    server.stop()
    assert not any(isinstance(a, BaseException) for a in done["acks"])
    assert not any(isinstance(r, BaseException) for r in done["results"])
    by = {ack.acknowledged_by for ack in done["acks"]}
    assert all(ack.on_store is (mode == "stored") for ack in done["acks"])
    if mode == "stored":
        assert by == {STORED_ACKNOWLEDGER}
    else:
        assert STORED_ACKNOWLEDGER not in by and all(by)
    assert done["resends"] == 0


def test_a_failed_post_on_subscribe_closes_the_router_connection(tmp_path, served):
    """Every post throttled: the stored result cannot reach the subscriber, so the local stack
    closes its connection (DELETE @connections answers as API Gateway's: close code 1000)."""
    import websockets

    server = served("--quiet", "--publisher-ack", "stored", "--post-429", "1", "--fault-seed", "1")

    async def scenario() -> int | None:
        async with (
            websockets.connect(server.websocket) as worker,
            websockets.connect(server.websocket) as router,
        ):
            await worker.send('{"guid":"closed-1"}')
            await worker.send("ping")  # answered once the publish ran: its posts were throttled
            await router.send("subscribe: closed-1")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with asyncio.timeout(10):
                    while True:
                        await router.recv()
            return closed.value.rcvd.code if closed.value.rcvd else None

    code = asyncio.run(scenario())
    server.stop()
    assert code == 1000
