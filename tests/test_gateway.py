"""The local stack end to end: `wsrelay serve` in a child process, clients on real sockets."""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.error
import urllib.parse
import urllib.request

import boto3
import pytest
import websockets
from aws_lambda_powertools.utilities.parser.models import (
    APIGatewayWebSocketConnectEventModel,
    APIGatewayWebSocketDisconnectEventModel,
    APIGatewayWebSocketMessageEventModel,
)
from botocore.exceptions import ClientError
from gateway_support import Served, start
from test_faults import post_outcomes
from waiting import wait_until, wait_until_async

RESULT = {"guid": "job-1", "code": 0, "asm": [{"text": "mov eax, 1"}]}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def cycle(served: Served, guid: str = "job-1") -> tuple[str, dict]:
    """Router subscribes, worker publishes once the subscribe ran, router acks and unsubscribes;
    returns (result seen, ack seen) once all four invocations completed."""
    url = served.websocket
    async with websockets.connect(url) as router, websockets.connect(url) as worker:
        before = served.invocations()
        await router.send(f"subscribe: {guid}")
        await wait_until_async(lambda: served.invocations() > before, what=f"the subscribe of {guid}")
        result = json.dumps({**RESULT, "guid": guid})
        await worker.send(result)
        got = await router.recv()
        await router.send(f"ack: {guid}")
        ack = json.loads(await worker.recv())
        await router.send(f"unsubscribe: {guid}")
        await wait_until_async(lambda: served.invocations() >= before + 4, what=f"the unsubscribe of {guid}")
        assert got == result  # relayed byte for byte
        return got, ack


async def own_connection_id(url: str, ws) -> str:
    """Learn a connection's id the protocol's way: the ack names its acker."""
    async with websockets.connect(url) as helper:
        guid = f"whoami-{time.monotonic_ns()}"
        await ws.send(f"subscribe: {guid}")
        await helper.send(json.dumps({"guid": guid}))  # delivered whichever runs first
        await ws.recv()
        await ws.send(f"ack: {guid}")
        return json.loads(await helper.recv())["acknowledgedBy"]


@pytest.mark.parametrize("runtime", ["inprocess", "lmi", "ondemand"])
def test_full_router_worker_cycle(tmp_path, runtime):
    served = start(tmp_path, "--runtime", runtime, "--cold-start-ms", "50", "--concurrency", "2")
    try:
        _, ack = run(cycle(served))
        assert list(ack) == ["type", "guid", "acknowledgedBy"]
        assert ack["type"] == "ack" and ack["guid"] == "job-1" and len(ack["acknowledgedBy"]) == 16
        assert served.invocations("$connect") == 2 and served.invocations() == 4
    finally:
        assert served.stop() == 0
    log = served.handler_log()
    outcomes = sorted(line["outcome"] for line in log if line["route"] == "$default")
    assert outcomes == ["acked", "published", "subscribed", "unsubscribed"]  # publish after subscribe
    assert sum(line["route"] == "$disconnect" for line in log) == 2


def test_late_subscriber_gets_the_stored_result(tmp_path):
    served = start(tmp_path)

    async def scenario():
        async with websockets.connect(served.websocket) as worker:
            await worker.send(json.dumps(RESULT))
            await wait_until_async(lambda: served.invocations() == 1, what="the publish")
        async with websockets.connect(served.websocket) as router:  # arrives after the publish
            await router.send("subscribe: job-1")
            return await router.recv()

    try:
        assert json.loads(run(scenario())) == RESULT
    finally:
        served.stop()
    assert any(line.get("LateDeliveries") == 1 for line in served.handler_log())


RESULTS = [{**RESULT, "guid": f"job-{i}"} for i in range(3)]


def published_then_restarted(tmp_path, stop, written: bool) -> list[dict]:
    """Publish RESULTS and wait until the stack handled them (and, when `written`, until they
    are in its SQLite file), then `stop` it, start a new one on the same state dir and return
    what a late subscriber gets there."""
    first = start(tmp_path)
    database = first.state_dir / "relay.sqlite3"

    def in_the_file() -> bool:
        content = database.read_bytes()  # the rows hold each result verbatim
        return all(json.dumps(result).encode() in content for result in RESULTS)

    async def publish():
        async with websockets.connect(first.websocket) as worker:
            for result in RESULTS:
                await worker.send(json.dumps(result))
            await wait_until_async(lambda: first.invocations() == len(RESULTS), what="the publishes")
            if written:
                await wait_until_async(in_the_file, what="the results in relay.sqlite3")

    run(publish())
    stop(first)
    second = start(tmp_path)

    async def late_subscriber():
        async with websockets.connect(second.websocket) as router:
            for result in RESULTS:
                await router.send(f"subscribe: {result['guid']}")
            return sorted([json.loads(await router.recv()) for _ in RESULTS], key=lambda r: r["guid"])

    try:
        return run(late_subscriber())
    finally:
        second.stop()


def test_a_stored_result_survives_a_restart_of_the_stack(tmp_path):
    """The inprocess runtime's store writes behind; a clean stop flushes it to the file."""

    def clean_stop(served) -> None:
        assert served.stop() == 0

    # stopped as soon as the publishes ran, mostly inside the store's flush interval: the stop
    # itself writes what is pending
    assert published_then_restarted(tmp_path, clean_stop, written=False) == RESULTS


def test_results_survive_a_kill_once_the_idle_flush_ran(tmp_path):
    """SIGKILL (no clean stop) once the write-behind reached the file, with no further write:
    the restarted stack reads the results back from it."""

    def kill(served) -> None:
        served.proc.kill()
        served.proc.wait(10)

    assert published_then_restarted(tmp_path, kill, written=True) == RESULTS


@pytest.mark.parametrize("runtime", ["inprocess", "lmi"])
def test_handler_log_rotates_past_its_limit(tmp_path, runtime):
    served = start(tmp_path, "--runtime", runtime, "--log-max-mb", "0.002")
    limit = int(0.002 * 2**20)  # bytes, as wsrelay serve converts it

    current, previous = served.state_dir / "handlers.log", served.state_dir / "handlers.log.1"

    async def cycles():
        for i in range(8):  # 4 invocations each, ~400 bytes of log lines per invocation
            await cycle(served, f"job-{i}")

    def rotated() -> bool:  # housekeeping after the last write: every 0.1 s (inprocess), 1 s (lmi)
        return previous.exists() and current.stat().st_size < limit

    try:
        run(cycles())
        # a rename-and-reopen leaves no handlers.log for an instant: a poll may miss it
        wait_until(rotated, what="handlers.log rotated below its limit", ignore=(FileNotFoundError,))
    finally:
        assert served.stop() == 0
    assert previous.exists() and previous.stat().st_size >= limit
    assert current.stat().st_size < limit  # rotated again whenever it reached the limit
    for path in (current, previous):  # whole JSON lines only
        assert all(json.loads(line) for line in path.read_text().splitlines())


def test_management_api_with_boto3(tmp_path):
    served = start(tmp_path)
    client = boto3.client(
        "apigatewaymanagementapi",
        endpoint_url=served.management,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )

    async def scenario():
        async with websockets.connect(served.websocket, user_agent_header="router/9") as ws:
            cid = await own_connection_id(served.websocket, ws)
            await asyncio.to_thread(client.post_to_connection, ConnectionId=cid, Data=b"hello")
            assert await ws.recv() == "hello"
            info = await asyncio.to_thread(client.get_connection, ConnectionId=cid)
            assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "router/9"}
            assert info["ConnectedAt"] <= info["LastActiveAt"]
            # boto3 refuses > 128 KB itself, so the 413 is checked over plain HTTP
            quoted = urllib.parse.quote(cid, safe="")
            request = urllib.request.Request(
                f"{served.management}/@connections/{quoted}", data=b"x" * 131073, method="POST"
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

    try:
        run(scenario())
    finally:
        served.stop()


def test_percent_encoded_connection_ids(tmp_path):
    """boto3 sends `AbC%2B%2Fx%3D` for `AbC+/x=`; the gateway must decode it."""
    served = start(tmp_path)
    try:
        request = urllib.request.Request(
            served.management + "/@connections/AbC%2B%2Fx%3D", data=b"x", method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as gone:
            urllib.request.urlopen(request, timeout=5)
        assert gone.value.code == 410
        assert gone.value.headers["x-amzn-ErrorType"] == "GoneException"
        assert served.stats()["posts"] == {"410": 1}
    finally:
        served.stop()


@pytest.mark.parametrize(
    "message",
    [["x" * 40_000], ["x" * 30_000] * 5],  # one 40 KB frame; 150 KB in 30 KB frames
    ids=["frame-over-32KB", "message-over-128KB"],
)
def test_oversize_closes_with_1009(tmp_path, message):
    served = start(tmp_path)

    async def scenario():
        async with websockets.connect(served.websocket) as ws:
            await ws.send(message if len(message) > 1 else message[0])
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            return closed.value.rcvd.code

    try:
        assert run(scenario()) == 1009
        closes = wait_until(lambda: served.stats()["connections"]["closes_by_code"], what="the close")
        assert closes == {"1009": 1}
    finally:
        served.stop()
    disconnects = [line for line in served.handler_log() if line["route"] == "$disconnect"]
    assert len(disconnects) == 1


def test_idle_timeout_closes_a_silent_connection(tmp_path):
    served = start(tmp_path, "--idle-timeout", "0.5")  # the max duration stays 2 h

    async def idle():
        started = time.monotonic()  # before the connection exists: a lower bound of its age
        async with websockets.connect(served.websocket) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            return closed.value.rcvd, time.monotonic() - started

    try:
        close, age = run(idle())
        assert (close.code, close.reason) == (1001, "Going away")
        assert age > 0.45  # not before the timeout (0.5 s; slack for the two clocks)
        closes = wait_until(lambda: served.stats()["connections"]["closes_by_code"], what="the close")
        assert closes == {"1001": 1}
    finally:
        served.stop()


def test_max_duration_closes_an_active_connection(tmp_path):
    served = start(tmp_path, "--idle-timeout", "1", "--max-duration", "2")

    async def busy():
        started = time.monotonic()
        pongs = 0
        async with websockets.connect(served.websocket) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:  # active far more often than the idle timeout: only the max duration ends it
                    await ws.send("ping")
                    assert await ws.recv() == "pong"
                    pongs += 1
                    await asyncio.sleep(0.05)
            return closed.value.rcvd.code, time.monotonic() - started, pongs

    try:
        code, age, pongs = run(busy())
        assert code == 1001 and pongs > 0
        # outlived the idle timeout (1 s): activity re-arms it; the max duration (2 s) ended it
        assert age > 1.5
    finally:
        served.stop()


def test_disconnect_runs_on_close_and_ttl_covers_a_dropped_one(tmp_path):
    served = start(tmp_path, "--drop-disconnect", "1", "--result-ttl", "1")

    async def scenario():
        async with websockets.connect(served.websocket) as router:
            await router.send("subscribe: ttl-1")
            await wait_until_async(lambda: served.invocations() == 1, what="the subscribe")
            expired_after = time.time() + 1  # the row's expiry: the subscribe's clock + the TTL, or before
        await wait_until_async(lambda: served.stats()["connections"]["closes_by_code"], what="the close")
        # $disconnect never ran: only the TTL can end the subscription (the clock is the behaviour)
        await wait_until_async(lambda: time.time() > expired_after, what="the 1 s TTL to pass")
        async with websockets.connect(served.websocket) as worker:
            await worker.send(json.dumps({"guid": "ttl-1"}))
            await wait_until_async(lambda: served.invocations() == 2, what="the publish")

    try:
        run(scenario())
        stats = served.stats()
        assert "$disconnect" not in stats["routes"]
        assert stats["posts"] == {}  # nothing was posted to the dead subscriber
    finally:
        served.stop()
    publish = next(line for line in served.handler_log() if line["outcome"].startswith("stored"))
    assert publish["ResultsWithoutSubscriber"] == 1


def test_lmi_serves_concurrent_requests_from_distinct_processes(tmp_path):
    rendezvous = tmp_path / "rendezvous"
    rendezvous.mkdir()
    served = start(
        tmp_path,
        *("--runtime", "lmi", "--concurrency", "3", "--route", "meet=concurrency_probe.meet"),
        env={"RENDEZVOUS_DIR": str(rendezvous), "RENDEZVOUS_COUNT": "3"},
    )

    async def burst():
        async with websockets.connect(served.websocket) as ws:
            for _ in range(3):  # each returns only once all three run at the same time
                await ws.send(json.dumps({"action": "meet"}))
            await wait_until_async(lambda: served.invocations("meet") == 3, timeout=60, what="3 meetings")

    try:
        run(burst())
        stats = served.stats()
        assert stats["routes"]["meet"]["errors"] == 0
        assert len(stats["functions"]["concurrency_probe.meet"]["served_by_pids"]) == 3
    finally:
        served.stop()


def test_ondemand_cold_starts_and_throttles(tmp_path):
    served = start(
        tmp_path,
        "--runtime",
        "ondemand",
        "--cold-start-ms",
        "300",
        "--max-concurrency",
        "1",
        "--route",
        "slow=gateway_handlers.slow",
    )

    async def scenario():
        async with websockets.connect(served.websocket) as ws:
            await ws.send(json.dumps({"action": "slow"}))
            await ws.send(json.dumps({"action": "slow"}))  # the one environment is busy
            return json.loads(await ws.recv())

    try:
        error = run(scenario())
        assert error["message"] == "Internal server error"
        assert set(error) == {"message", "connectionId", "requestId"}
        # $connect's and slow's first environments start cold; slow's counts once it returns
        wait_until(lambda: served.stats()["cold_starts"] >= 2, what="2 cold starts")
        assert served.stats()["throttles"] >= 1
    finally:
        served.stop()


async def failing_action_then_ping(url: str, action: str) -> tuple[dict, str]:
    """Send a frame routed to `action`, read the gateway's error, then check the connection
    stays usable: returns (error document, reply to ping)."""
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"action": action}))
        error = json.loads(await ws.recv())
        await ws.send("ping")
        return error, await ws.recv()


def test_handler_error_reaches_the_client_like_api_gateway(tmp_path):
    served = start(tmp_path, "--route", "boom=gateway_handlers.explode")

    try:
        error, pong = run(failing_action_then_ping(served.websocket, "boom"))
        assert error["message"] == "Internal server error" and pong == "pong"
        assert served.stats()["routes"]["boom"]["errors"] == 1
    finally:
        served.stop()


def test_connect_rejection_refuses_the_upgrade(tmp_path):
    served = start(tmp_path, "--route", "$connect=gateway_handlers.reject")

    async def scenario():
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(served.websocket):
                pass
        return refused.value.response.status_code

    try:
        assert run(scenario()) == 403
        assert served.stats()["connections"]["rejected"] == 1
    finally:
        served.stop()


def test_every_emitted_event_parses_with_powertools_models(tmp_path):
    events = tmp_path / "events.jsonl"
    served = start(
        tmp_path,
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
        async with websockets.connect(served.websocket + "?token=abc", user_agent_header="w/1") as ws:
            await ws.send("subscribe: g")
            await ws.send(json.dumps({"action": "custom", "x": 1}))
            await ws.send(b"\x00\xff")
            await wait_until_async(lambda: recorded_events() == 4, what="4 recorded events")
            await ws.close(4000, "bye")
        await wait_until_async(lambda: recorded_events() == 5, what="the $disconnect event")

    try:
        run(scenario())
    finally:
        served.stop()
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


def test_clean_shutdown_closes_and_disconnects_everyone(tmp_path):
    served = start(tmp_path)

    async def scenario():
        a = await websockets.connect(served.websocket)
        b = await websockets.connect(served.websocket)
        assert served.stats()["connections"]["open"] == 2  # registered before the handshake's answer
        served.proc.send_signal(__import__("signal").SIGTERM)
        codes = []
        for ws in (a, b):
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            codes.append(closed.value.rcvd.code)
        return codes

    assert run(scenario()) == [1001, 1001]
    assert served.proc.wait(30) == 0  # one SIGTERM: a clean exit
    assert sum(line["route"] == "$disconnect" for line in served.handler_log()) == 2
    assert "wsrelay serve: stopped" in "".join(served.output)


@pytest.mark.parametrize("quiet", [False, True])
def test_console_line_per_invocation(tmp_path, quiet):
    served = start(tmp_path, *(["--quiet"] if quiet else []))
    try:
        run(cycle(served))
    finally:
        assert served.stop() == 0
    line = re.compile(r"^\d\d:\d\d:\d\d (\S+) +(\S{16}) (\d{3}|error|timeout|throttled) \d+\.\dms")
    lines = [m.groups() for m in map(line.match, "".join(served.output).splitlines()) if m]
    if quiet:
        assert lines == []
        return
    routes = [route for route, _, _ in lines]
    assert routes.count("$connect") == 2 and routes.count("$disconnect") == 2
    assert routes.count("$default") == 4  # subscribe, publish, ack, unsubscribe
    assert all(status == "200" for _, _, status in lines)
    assert len({cid for _, cid, _ in lines}) == 2  # router and worker


def test_stats_endpoint_shape(tmp_path):
    served = start(tmp_path)
    try:
        run(cycle(served))
        stats = served.stats()
        assert stats["runtime"] == "inprocess"
        assert stats["connections"]["open"] == 0 and stats["connections"]["opened"] == 2
        latency = stats["routes"]["$default"]["latency_ms"]
        assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
        assert stats["posts"]["200"] == 2
    finally:
        served.stop()


@pytest.mark.parametrize("runtime", ["inprocess", "lmi"])
def test_integration_timeout(tmp_path, runtime):
    served = start(
        tmp_path,
        "--runtime",
        runtime,
        "--integration-timeout",
        "0.2",
        "--route",
        "slow=gateway_handlers.slow",
    )

    try:
        error, pong = run(failing_action_then_ping(served.websocket, "slow"))
        assert error["message"] == "Endpoint request timed out" and pong == "pong"
        assert served.stats()["routes"]["slow"]["timeouts"] == 1
    finally:
        served.stop()


def test_post_410_fault_drops_the_subscriber_and_keeps_the_result(tmp_path):
    served = start(tmp_path, "--post-410", "1")

    async def scenario():
        router = await websockets.connect(served.websocket)
        await router.send("subscribe: f410")
        await wait_until_async(lambda: served.invocations() == 1, what="the subscribe")
        async with websockets.connect(served.websocket) as worker:
            await worker.send(json.dumps({"guid": "f410"}))
            with pytest.raises(websockets.ConnectionClosed):  # dropped without a close frame
                await router.recv()

    try:
        run(scenario())
        closes = wait_until(
            lambda: served.stats()["connections"]["closes_by_code"].get("1006"), what="the dropped close"
        )
        assert closes == 1
        assert served.stats()["posts"]["410"] >= 1
    finally:
        served.stop()
    publish = next(line for line in served.handler_log() if line["outcome"] == "published")
    assert publish["StaleConnectionsRemoved"] == 1 and "ResultsDelivered" not in publish


def test_post_429_fault_is_retried_and_latency_is_injected(tmp_path):
    seed, pings = 5, 10
    delivered, answered_429 = post_outcomes(seed, pings)  # the pongs: exactly these get through
    served = start(tmp_path, "--post-429", "0.5", "--fault-seed", str(seed), "--post-latency-ms", "30")

    async def scenario():
        received = []
        async with websockets.connect(served.websocket) as ws:
            for n in range(1, pings + 1):
                started = time.monotonic()
                await ws.send("ping")
                # Once the invocation is counted its posts are done: a pong is on the wire.
                await wait_until_async(lambda n=n: served.invocations() == n, what=f"ping {n} handled")
                try:
                    assert await asyncio.wait_for(ws.recv(), 2) == "pong"
                    assert time.monotonic() - started >= 0.03
                    received.append(True)
                except TimeoutError:
                    received.append(False)
        return received

    try:
        assert run(scenario()) == delivered
        assert False in delivered  # the seed loses a pong: four 429s in a row
        assert served.stats()["posts"]["429"] == answered_429
    finally:
        served.stop()
    retries = sum(line.get("PostRetries", 0) for line in served.handler_log())
    assert retries == answered_429 - delivered.count(False)  # a lost pong's fourth 429 is no retry
