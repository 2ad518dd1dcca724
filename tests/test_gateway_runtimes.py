"""The local stack end to end, how handlers run: concurrent LMI requests in distinct processes,
on-demand cold starts and throttles, a handler's error and the integration timeout as API
Gateway answers them."""

from __future__ import annotations

import json

import pytest
import websockets
from gateway_support import failing_action_then_ping, run
from waiting import wait_until, wait_until_async

pytestmark = pytest.mark.processes


def test_lmi_serves_concurrent_requests_from_distinct_processes(served, tmp_path):
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    server = served(
        *("--concurrency", "3", "--route", "meet=concurrency_probe.meet"),
        runtime="lmi",
        env={"RENDEZVOUS_DIR": str(rendezvous), "RENDEZVOUS_COUNT": "3"},
    )

    async def burst():
        async with websockets.connect(server.websocket) as ws:
            for _ in range(3):  # each returns only once all three run at the same time
                await ws.send(json.dumps({"action": "meet"}))
            await wait_until_async(lambda: server.invocations("meet") == 3, timeout=60, what="3 meetings")

    run(burst())
    stats = server.stats()
    assert stats["routes"]["meet"]["errors"] == 0
    assert len(stats["functions"]["concurrency_probe.meet"]["served_by_pids"]) == 3


def test_ondemand_cold_starts_and_throttles(served):
    server = served(
        "--cold-start-ms",
        "300",
        "--max-concurrency",
        "1",
        "--route",
        "slow=gateway_handlers.slow",
        runtime="ondemand",
    )

    async def scenario():
        async with websockets.connect(server.websocket) as ws:
            await ws.send(json.dumps({"action": "slow"}))
            await ws.send(json.dumps({"action": "slow"}))  # the one environment is busy
            return json.loads(await ws.recv())

    error = run(scenario())
    assert error["message"] == "Internal server error"
    assert set(error) == {"message", "connectionId", "requestId"}
    # $connect's and slow's first environments start cold; slow's counts once it returns
    wait_until(lambda: server.stats()["cold_starts"] >= 2, what="2 cold starts")
    assert server.stats()["throttles"] >= 1


def test_handler_error_reaches_the_client_like_api_gateway(served):
    server = served("--route", "boom=gateway_handlers.explode")

    error, pong = run(failing_action_then_ping(server.websocket, "boom"))
    assert error["message"] == "Internal server error" and pong == "pong"
    assert server.stats()["routes"]["boom"]["errors"] == 1


@pytest.mark.parametrize("runtime", ["inprocess", "lmi"])
def test_integration_timeout(served, runtime):
    server = served(
        "--integration-timeout-s", "0.2", "--route", "slow=gateway_handlers.slow", runtime=runtime
    )

    error, pong = run(failing_action_then_ping(server.websocket, "slow"))
    assert error["message"] == "Endpoint request timed out" and pong == "pong"
    assert server.stats()["routes"]["slow"]["timeouts"] == 1
