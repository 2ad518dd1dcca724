"""The local stack end to end, posts to connections: the Management API through boto3 (and over
plain HTTP where boto3 refuses first), percent-encoded connection ids, and the injected 410 and
429 faults."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
import pytest
import websockets
from botocore.exceptions import ClientError
from gateway_support import own_connection_id, post_outcomes, run
from waiting import wait_until, wait_until_async

pytestmark = pytest.mark.processes


def test_management_api_with_boto3(served):
    server = served()
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=server.management,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )

    async def scenario():
        async with websockets.connect(server.websocket, user_agent_header="router/9") as ws:
            cid = await own_connection_id(server.websocket, ws)
            await asyncio.to_thread(client.post_to_connection, ConnectionId=cid, Data=b"hello")
            assert await ws.recv() == "hello"
            info = await asyncio.to_thread(client.get_connection, ConnectionId=cid)
            assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "router/9"}
            assert info["ConnectedAt"] <= info["LastActiveAt"]
            # boto3 refuses > 128 KB itself, so the 413 is checked over plain HTTP
            quoted = urllib.parse.quote(cid, safe="")
            request = urllib.request.Request(
                f"{server.management}/@connections/{quoted}", data=b"x" * 131073, method="POST"
            )
            with pytest.raises(urllib.error.HTTPError) as too_big:
                await asyncio.to_thread(urllib.request.urlopen, request, timeout=5)
            assert too_big.value.code == 413
            assert too_big.value.headers["x-amzn-ErrorType"] == "PayloadTooLargeException"
            await asyncio.to_thread(client.delete_connection, ConnectionId=cid)
            with pytest.raises(websockets.ConnectionClosed):
                await ws.recv()
            calls = [
                (client.post_to_connection, {"ConnectionId": cid, "Data": b"x"}),
                (client.get_connection, {"ConnectionId": cid}),
                (client.delete_connection, {"ConnectionId": cid}),
            ]
            for call, kwargs in calls:
                with pytest.raises(ClientError) as gone:
                    await asyncio.to_thread(call, **kwargs)
                assert gone.value.response["Error"]["Code"] == "GoneException"
            with pytest.raises(ClientError) as unknown:
                await asyncio.to_thread(client.post_to_connection, ConnectionId="AbC+/x=", Data=b"x")
            assert unknown.value.response["Error"]["Code"] == "GoneException"

    run(scenario())


def test_percent_encoded_connection_ids(served):
    """boto3 sends `AbC%2B%2Fx%3D` for `AbC+/x=`; the gateway must decode it."""
    server = served()
    request = urllib.request.Request(
        server.management + "/@connections/AbC%2B%2Fx%3D", data=b"x", method="POST"
    )
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(request, timeout=5)
    assert gone.value.code == 410
    assert gone.value.headers["x-amzn-ErrorType"] == "GoneException"
    assert server.stats()["posts"] == {"410": 1}


def test_post_410_fault_drops_the_subscriber_and_keeps_the_result(served):
    server = served("--post-410", "1")

    async def scenario():
        router = await websockets.connect(server.websocket)
        await router.send("subscribe: f410")
        await wait_until_async(lambda: server.invocations() == 1, what="the subscribe")
        async with websockets.connect(server.websocket) as worker:
            await worker.send(json.dumps({"guid": "f410"}))
            with pytest.raises(websockets.ConnectionClosed):  # dropped without a close frame
                await router.recv()

    run(scenario())
    closes = wait_until(
        lambda: server.stats()["connections"]["closes_by_code"].get("1006"), what="the dropped close"
    )
    assert closes == 1
    assert server.stats()["posts"]["410"] >= 1
    server.stop()
    publish = next(line for line in server.handler_log() if line["outcome"] == "published")
    assert publish["StaleConnectionsRemoved"] == 1 and "ResultsDelivered" not in publish


def test_post_429_fault_is_retried_and_latency_is_injected(served):
    seed, pings = 5, 10
    delivered, answered_429 = post_outcomes(seed, pings)  # the pongs: exactly these get through
    server = served("--post-429", "0.5", "--fault-seed", str(seed), "--post-latency-ms", "30")

    async def scenario():
        received = []
        async with websockets.connect(server.websocket) as ws:
            for n in range(1, pings + 1):
                started = time.monotonic()
                await ws.send("ping")
                # Once the invocation is counted its posts are done: a pong is on the wire.
                await wait_until_async(lambda n=n: server.invocations() == n, what=f"ping {n} handled")
                try:
                    assert await asyncio.wait_for(ws.recv(), 2) == "pong"
                    assert time.monotonic() - started >= 0.03
                    received.append(True)
                except TimeoutError:
                    received.append(False)
        return received

    assert run(scenario()) == delivered
    assert False in delivered  # the seed loses a pong: four 429s in a row
    assert server.stats()["posts"]["429"] == answered_429
    server.stop()
    retries = sum(line.get("PostRetries", 0) for line in server.handler_log())
    assert retries == answered_429 - delivered.count(False)  # a lost pong's fourth 429 is no retry
