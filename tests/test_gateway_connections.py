"""The local stack end to end, a connection's life: API Gateway's frame and message limits, the
idle timeout and the maximum duration, $disconnect (and the TTL when it never runs), a $connect
that refuses the upgrade, a clean shutdown, and the events the handlers receive."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import pytest
import websockets
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from gateway_support import run
from waiting import wait_until, wait_until_async

pytestmark = pytest.mark.processes


@pytest.mark.parametrize(
    "message",
    [["x" * 40_000], ["x" * 30_000] * 5],  # one 40 KB frame; 150 KB in 30 KB frames
    ids=["frame-over-32KB", "message-over-128KB"],
)
def test_oversize_closes_with_1009(served, message):
    server = served()

    async def scenario():
        async with websockets.connect(server.websocket) as ws:
            await ws.send(message if len(message) > 1 else message[0])
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            return closed.value.rcvd.code

    assert run(scenario()) == 1009
    closes = wait_until(lambda: server.stats()["connections"]["closes_by_code"], what="the close")
    assert closes == {"1009": 1}
    server.stop()
    disconnects = [line for line in server.handler_log() if line["route"] == "$disconnect"]
    assert len(disconnects) == 1


def test_idle_timeout_closes_a_silent_connection(served):
    server = served("--idle-timeout-s", "0.5")  # the max duration stays 2 h

    async def idle():
        started = time.monotonic()  # before the connection exists: a lower bound of its age
        async with websockets.connect(server.websocket) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            return closed.value.rcvd, time.monotonic() - started

    close, age = run(idle())
    assert (close.code, close.reason) == (1001, "Going away")
    assert age > 0.45  # not before the timeout (0.5 s; slack for the two clocks)
    closes = wait_until(lambda: server.stats()["connections"]["closes_by_code"], what="the close")
    assert closes == {"1001": 1}


def test_max_duration_closes_an_active_connection(served):
    server = served("--idle-timeout-s", "1", "--max-duration-s", "2")

    async def busy():
        started = time.monotonic()
        pongs = 0
        async with websockets.connect(server.websocket) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:  # active far more often than the idle timeout: only the max duration ends it
                    await ws.send("ping")
                    assert await ws.recv() == "pong"
                    pongs += 1
                    await asyncio.sleep(0.05)
            return closed.value.rcvd.code, time.monotonic() - started, pongs

    code, age, pongs = run(busy())
    assert code == 1001 and pongs > 0
    # outlived the idle timeout (1 s): activity re-arms it; the max duration (2 s) ended it
    assert age > 1.5


def test_disconnect_runs_on_close_and_ttl_covers_a_dropped_one(served):
    server = served("--drop-disconnect", "1", "--result-ttl-s", "1")

    async def scenario():
        async with websockets.connect(server.websocket) as router:
            await router.send("subscribe: ttl-1")
            await wait_until_async(lambda: server.invocations() == 1, what="the subscribe")
            expired_after = time.time() + 1  # the row's expiry: the subscribe's clock + the TTL, or before
        await wait_until_async(lambda: server.stats()["connections"]["closes_by_code"], what="the close")
        # $disconnect never ran: only the TTL can end the subscription (the clock is the behaviour)
        await wait_until_async(lambda: time.time() > expired_after, what="the 1 s TTL to pass")
        async with websockets.connect(server.websocket) as worker:
            await worker.send(json.dumps({"guid": "ttl-1"}))
            await wait_until_async(lambda: server.invocations() == 2, what="the publish")

    run(scenario())
    stats = server.stats()
    assert "$disconnect" not in stats["routes"]
    assert stats["posts"] == {}  # nothing was posted to the dead subscriber
    server.stop()
    publish = next(line for line in server.handler_log() if line["outcome"].startswith("stored"))
    assert publish["ResultsWithoutSubscriber"] == 1


def test_connect_rejection_refuses_the_upgrade(served):
    server = served("--route", "$connect=gateway_handlers.reject")

    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(server.websocket):
                pass
        return refused.value.response.status_code

    assert run(scenario()) == 403
    assert server.stats()["connections"]["rejected"] == 1


def test_every_emitted_event_parses_with_powertools_models(served, tmp_path):
    events = tmp_path / "events.jsonl"
    server = served(
        "--route",
        "$connect=gateway_handlers.record",
        "--route",
        "$disconnect=gateway_handlers.record",
        "--route",
        "$default=gateway_handlers.record",
        "--route",
        "custom=gateway_handlers.record",
        env={"RECORD_EVENTS": str(events)},
    )

    def recorded_events() -> int:
        return events.read_text().count("\n") if events.exists() else 0

    async def scenario():
        async with websockets.connect(server.websocket + "?token=abc", user_agent_header="w/1") as ws:
            await ws.send("subscribe: g")
            await ws.send(json.dumps({"action": "custom", "x": 1}))
            await ws.send(b"\x00\xff")
            await wait_until_async(lambda: recorded_events() == 4, what="4 recorded events")
            await ws.close(4000, "bye")
        await wait_until_async(lambda: recorded_events() == 5, what="the $disconnect event")

    run(scenario())
    server.stop()
    recorded = [json.loads(line) for line in events.read_text().splitlines()]
    by_route = {}
    for event in recorded:
        by_route.setdefault(event["requestContext"]["routeKey"], []).append(event)
    (connect,) = by_route["$connect"]
    APIGatewayWebSocketConnectEventModel.model_validate(connect)
    assert connect["queryStringParameters"] == {"token": "abc"}
    assert connect["headers"]["User-Agent"] == "w/1"
    for event in by_route["$default"] + by_route["custom"]:
        APIGatewayWebSocketMessageEventModel.model_validate(event)
        assert event["requestContext"]["connectedAt"] == connect["requestContext"]["connectedAt"]
    assert [e["isBase64Encoded"] for e in by_route["$default"]] == [False, True]
    (disconnect,) = by_route["$disconnect"]
    APIGatewayWebSocketDisconnectEventModel.model_validate(disconnect)
    assert disconnect["requestContext"]["disconnectStatusCode"] == 4000
    assert disconnect["requestContext"]["disconnectReason"] == "bye"
    ids = {e["requestContext"]["requestId"] for e in recorded}
    assert len(ids) == len(recorded)  # a fresh requestId per invocation


def test_clean_shutdown_closes_and_disconnects_everyone(served):
    server = served()

    async def scenario():
        a = await websockets.connect(server.websocket)
        b = await websockets.connect(server.websocket)
        assert server.stats()["connections"]["open"] == 2  # registered before the handshake's answer
        server.proc.send_signal(signal.SIGTERM)
        codes = []
        for ws in (a, b):
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            codes.append(closed.value.rcvd.code)
        return codes

    assert run(scenario()) == [1001, 1001]
    assert server.proc.wait(30) == 0  # one SIGTERM: a clean exit
    server.stop()  # it has exited: this only waits for its last output lines to be read
    assert sum(line["route"] == "$disconnect" for line in server.handler_log()) == 2
    assert "wsrelay serve: stopped" in "".join(server.output)
