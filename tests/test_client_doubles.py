"""wsrelay.client against scripted relays (tests/relay_doubles.py) that misbehave on purpose:
dropped connections before and after an ack, redeliveries, noise frames, refused reconnects;
upgrade headers, idle text pings and the 31 KiB offload threshold on the wire."""

from __future__ import annotations

import asyncio
import contextlib
import json

import pytest
from client_support import FAST, run
from relay_doubles import DROP, scripted_server
from waiting import wait_until_async
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from wsrelay.client import (
    Backoff,
    Publisher,
    PublisherConfig,
    PublishFailed,
    ResultTooLarge,
    Subscriber,
    SubscriberConfig,
)
from wsrelay.client import publisher as publisher_module


def test_extra_headers_reach_the_upgrade_and_idle_connections_send_text_ping():
    async def scenario():
        async with scripted_server() as server:
            config = SubscriberConfig(server.url, headers={"Authorization": "Bearer abc"}, idle_ping_s=0.05)
            async with Subscriber(config):
                await wait_until_async(lambda: server.frames.count("ping") >= 2, what="two idle pings")
            return server

    server = run(scenario())
    assert server.headers[0]["Authorization"] == "Bearer abc"


def _result_frame(guid: str) -> str:
    return json.dumps({"guid": guid, "code": 0})


def test_a_result_delivered_again_is_acked_again():
    # The relay redelivers only unacked results: a second delivery means the first ack was lost.
    async def scenario():
        def relay(frame: str) -> list[str]:
            if frame == "subscribe: twice":
                return [_result_frame("twice"), _result_frame("twice")]
            return []

        async with scripted_server(relay) as server:
            async with Subscriber(SubscriberConfig(server.url)) as sub:
                await sub.subscribe("twice")
                result = await sub.wait("twice", 10)
                await wait_until_async(lambda: server.frames.count("ack: twice") == 2, what="the second ack")
                return result, sub.stats.duplicates, server.frames

    result, duplicates, frames = run(scenario())
    assert result.data == {"guid": "twice", "code": 0} and duplicates == 1
    assert frames == [
        "subscribe: twice",
        "ack: twice",
        "unsubscribe: twice",
        "ack: twice",
        "unsubscribe: twice",
    ]


def test_an_ack_written_just_before_the_connection_died_is_sent_again():
    async def scenario():
        seen_acks = []

        def relay(frame: str) -> list[str]:
            if frame == "subscribe: g1":
                return [_result_frame("g1")]
            if frame == "ack: g1":
                seen_acks.append(frame)
                return [DROP] if len(seen_acks) == 1 else []
            return []

        async with scripted_server(relay) as server:
            async with Subscriber(SubscriberConfig(server.url, backoff=FAST)) as sub:
                await sub.subscribe("g1")
                await sub.wait("g1", 10)
                await wait_until_async(lambda: len(seen_acks) == 2, what="the replayed ack")
                return sub.reconnects, sub.stats.acks_replayed, len(server.headers)

    reconnects, replayed, connections = run(scenario())
    assert (reconnects, replayed, connections) == (1, 1, 2)


def test_a_publish_whose_connection_dies_is_resent_at_once_on_the_new_one():
    async def scenario():
        publishes = []

        def relay(frame: str) -> list[str]:
            if not frame.startswith("{"):
                return []
            publishes.append(frame)
            if len(publishes) == 1:
                return [DROP]  # the worker's connection dies before the ack
            return [json.dumps({"type": "ack", "guid": "w1", "acknowledgedBy": "router-1"})]

        async with scripted_server(relay) as server:
            # An ack timeout far longer than the test: only the reconnect can trigger the resend.
            config = PublisherConfig(server.url, backoff=FAST, ack_timeout_s=60)
            async with Publisher(config) as pub:
                ack = await pub.publish("w1", {"code": 0})
                return ack, pub.stats, publishes

    ack, stats, publishes = run(scenario())
    assert ack.acknowledged_by == "router-1" and ack.sends == 2
    assert stats.reconnect_resends == 1 and stats.resends == 0
    assert publishes[0] == publishes[1]  # the same JSON, byte for byte


def test_closing_the_publisher_fails_a_pending_publish_at_once():
    async def scenario():
        async with scripted_server() as server:  # a relay that never acks
            pub = await Publisher(PublisherConfig(server.url, ack_timeout_s=60)).start()
            publishing = asyncio.create_task(pub.publish("never-acked", {"code": 0}))
            await wait_until_async(lambda: server.frames, what="the publish to arrive")
            await pub.close()
            with pytest.raises(PublishFailed, match="the client was closed"):
                await asyncio.wait_for(publishing, 10)  # not the 60 s ack timeout

    run(scenario())


def test_unreadable_frames_and_error_replies_are_counted_not_fatal():
    async def scenario():
        def relay(frame: str) -> list[str]:
            if frame == "subscribe: g2":
                noise = [
                    "{broken",
                    "error: invalid guid in ack",
                    "pong",
                    "[1, 2]",
                    '{"type":"ack","guid":"g2"}',
                ]
                return [*noise, _result_frame("g2")]
            return []

        async with scripted_server(relay) as server:
            async with Subscriber(SubscriberConfig(server.url)) as sub:
                await sub.subscribe("g2")
                result = await sub.wait("g2", 10)
                return result, sub.stats

    result, stats = run(scenario())
    assert result.data == {"guid": "g2", "code": 0}  # an ack frame carrying the guid is not the result
    assert stats.errors == 2 and stats.last_error == "error: invalid guid in ack"


def _acking_relay(frame: str) -> list[str]:
    if not frame.startswith("{"):
        return []
    return [json.dumps({"type": "ack", "guid": json.loads(frame)["guid"], "acknowledgedBy": "r"})]


def test_the_offload_threshold_is_31_kib_of_compact_json():
    def result_of_length(length: int) -> dict:
        base = len(json.dumps({"stdout": "", "guid": "edge"}, separators=(",", ":")))
        return {"stdout": "x" * (length - base)}

    async def scenario():
        async with scripted_server(_acking_relay) as server:
            async with Publisher(PublisherConfig(server.url)) as pub:
                ack = await pub.publish("edge", result_of_length(31 * 1024))
                with pytest.raises(ResultTooLarge, match="31745 bytes exceed 31744"):
                    await pub.publish("edge", result_of_length(31 * 1024 + 1))
                # 16,000 characters, 32,000 bytes: over the relay's 32 KB frame as UTF-8
                with pytest.raises(ResultTooLarge, match="bytes exceed 31744"):
                    await pub.publish("wide", {"stdout": "\u00e9" * 16000})
                return ack, server.frames

    ack, frames = run(scenario())
    assert not ack.via_s3 and [len(frame) for frame in frames] == [31 * 1024]


def test_a_result_whose_connection_is_lost_after_every_send_fails_instead_of_looping():
    async def scenario():
        # a relay that drops the connection on every result (as a 1009 close would)
        async with scripted_server(lambda frame: [DROP] if frame.startswith("{") else []) as server:
            config = PublisherConfig(server.url, backoff=FAST, max_lost_sends=3)
            async with Publisher(config) as pub:
                with pytest.raises(PublishFailed, match="lost after each of 3 sends"):
                    await pub.publish("doomed", {"code": 0})
            return server.frames

    frames = run(scenario())
    assert frames.count('{"code":0,"guid":"doomed"}') == 3


def test_the_subscriber_outlasts_its_backoff_limit_while_a_guid_is_awaited():
    # max_attempts=2 would stop a Publisher; the Subscriber keeps reconnecting through six refused
    # upgrades and resubscribes when the relay is back.
    async def scenario():
        state: dict = {"refuse": False, "upgrades": 0, "live": None}
        frames: list[str] = []

        def process_request(ws, request):
            state["upgrades"] += 1
            return ws.respond(503, "down\n") if state["refuse"] else None

        async def handler(ws):
            state["live"] = ws
            with contextlib.suppress(ConnectionClosed):  # the abort below
                async for message in ws:
                    frames.append(message)
                    if message == "subscribe: kept" and state["upgrades"] > 1:
                        await ws.send(_result_frame("kept"))

        async with serve(handler, "127.0.0.1", 0, process_request=process_request) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            config = SubscriberConfig(f"ws://127.0.0.1:{port}/local", backoff=Backoff(0.01, 0.02, 2))
            async with Subscriber(config) as sub:
                await sub.subscribe("kept")
                waiting = asyncio.create_task(sub.wait("kept", 30))
                await wait_until_async(lambda: frames, what="the first subscribe")
                state["refuse"] = True
                state["live"].transport.abort()
                await wait_until_async(lambda: state["upgrades"] >= 7, what="six refused reconnects")
                state["refuse"] = False
                return await waiting, sub.reconnects, frames

    result, reconnects, frames = run(scenario())
    assert result.data == {"guid": "kept", "code": 0} and reconnects == 1
    assert frames.count("subscribe: kept") == 2


@pytest.mark.parametrize(("batch", "guids", "sizes"), [(3, 7, [3, 3, 1]), (100, 35, [10, 20, 5])])
def test_a_reconnect_resubscribes_in_batches_each_released_by_a_pong(batch, guids, sizes):
    # Connection 1 dies once every guid is subscribed; connection 2 dies at the first batch's
    # ping (before its pong), so it must have carried that batch only; connection 3 answers the
    # pongs and gets every guid back, oldest first, in batches of 10 doubling up to `batch`.
    last = f"subscribe: g{guids - 1}"

    async def scenario():
        server_state = {"server": None}
        per_connection: list[list[str]] = []

        def relay(frame: str) -> list[str]:
            upgrades = len(server_state["server"].headers)
            while len(per_connection) < upgrades:
                per_connection.append([])
            per_connection[upgrades - 1].append(frame)
            if upgrades == 1 and frame == last:
                return [DROP]
            if frame == "ping":
                return [DROP] if upgrades == 2 else ["pong"]
            return []

        async with scripted_server(relay) as server:
            server_state["server"] = server
            config = SubscriberConfig(server.url, backoff=FAST, resubscribe_batch=batch)
            async with Subscriber(config) as sub:
                for i in range(guids):
                    await sub.subscribe(f"g{i}")
                await wait_until_async(
                    lambda: len(per_connection) == 3 and per_connection[2].count("ping") == len(sizes),
                    what="the third connection's batches",
                )
                return per_connection, sub.stats.resubscribes

    connections, resubscribes = run(scenario())
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    batches = [
        [f"subscribe: g{i}" for i in range(start, start + size)]
        for start, size in zip(starts, sizes, strict=True)
    ]
    assert connections[1] == [*batches[0], "ping"]
    assert connections[2] == [frame for one in batches for frame in [*one, "ping"]]
    assert resubscribes == sizes[0] + guids


def test_a_connection_lost_long_after_the_send_does_not_count_towards_giving_up(monkeypatch):
    """Connections that die while the ack is slow (not on the frame itself) reset the count: the
    result is published once the relay acks, however many such losses came before."""
    monkeypatch.setattr(publisher_module, "LOST_RIGHT_AFTER_S", 0.05)

    async def scenario():
        connections = {"n": 0}

        async def handler(ws):
            connections["n"] += 1
            async for message in ws:
                if not message.startswith("{"):
                    continue
                if connections["n"] <= 3:  # no ack; the connection dies a while after the send
                    await asyncio.sleep(0.3)
                    ws.transport.abort()
                    return
                guid = json.loads(message)["guid"]
                await ws.send(json.dumps({"type": "ack", "guid": guid, "acknowledgedBy": "R"}))

        async with serve(handler, "127.0.0.1", 0, compression=None) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            config = PublisherConfig(f"ws://127.0.0.1:{port}/x", backoff=FAST, max_lost_sends=2)
            async with Publisher(config) as pub:
                return await pub.publish("slow-acks", {"code": 0})

    ack = run(scenario())
    assert ack.acknowledged_by == "R" and ack.sends == 4
