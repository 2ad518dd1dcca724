"""`wsrelay serve --dashboard` over real sockets: the paths exist only with the flag, every
action and read wants the per-run token and refuses a foreign Origin, the actions do what the
Management API does, a live fault change shows in the stats, and the event stream carries the
gateway's events as JSON arrays."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from auth_support import secret_file
from auth_support import token as auth_token
from dashboard_support import EventStream, dashboard_url, request, token
from gateway_support import run
from waiting import wait_until, wait_until_async

DASHBOARD_PATHS = [
    ("GET", "/_wsrelay/"),
    ("GET", "/_wsrelay/dashboard.js"),
    ("GET", "/_wsrelay/events"),
    ("GET", "/_wsrelay/state"),
    ("PUT", "/_wsrelay/faults"),
    ("DELETE", "/_wsrelay/connections/abc"),
]


def test_without_the_flag_the_paths_are_unknown_paths(served):
    server = served()
    unknown = request(server, "GET", "/no/such/path")
    assert unknown.status == 403
    for method, path in DASHBOARD_PATHS:
        answer = request(server, method, path, x_wsrelay_token="anything")
        assert (answer.status, answer.body) == (unknown.status, unknown.body), path
        assert (
            answer.headers["x-amzn-errortype"] == unknown.headers["x-amzn-errortype"] == "ForbiddenException"
        )
    assert "dashboard" not in server.output[0]
    assert not (server.state_dir / "dashboard-token").exists()
    assert "fault_seed_reproducible" not in server.stats()


def test_the_page_and_its_token(served):
    server = served("--dashboard")
    url = dashboard_url(server)
    assert url.endswith(f"/_wsrelay/#token={token(server)}")
    page = request(server, "GET", "/_wsrelay/")
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert b"/_wsrelay/dashboard.js" in page.body and b"/_wsrelay/dashboard.css" in page.body
    script = request(server, "GET", "/_wsrelay/dashboard.js")
    assert script.status == 200 and script.headers["content-type"].startswith("text/javascript")
    model = request(server, "GET", "/_wsrelay/model.js")
    style = request(server, "GET", "/_wsrelay/dashboard.css")
    for asset in (page, model, script, style):  # served from the package: nothing from elsewhere
        assert asset.status == 200
        assert b"://" not in asset.body
    assert request(server, "GET", "/_wsrelay/no-such-asset").status == 403  # still an unknown path


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/_wsrelay/state", b""),
        ("GET", "/_wsrelay/events", b""),
        ("PUT", "/_wsrelay/faults", b'{"post_429": 1}'),
        ("POST", "/_wsrelay/connections/abc", b"hello"),
        ("DELETE", "/_wsrelay/connections/abc", b""),
    ],
)
def test_actions_and_reads_are_refused_without_the_token_or_from_another_origin(served, method, path, body):
    server = served("--dashboard")
    secret = token(server)
    no_token = request(server, method, path, body)
    wrong = request(server, method, path, body, x_wsrelay_token=secret[:-1] + "x")
    foreign = request(server, method, path, body, x_wsrelay_token=secret, origin="https://evil.example")
    for answer in (no_token, wrong, foreign):
        assert answer.status == 403, answer
    assert b"token" in no_token.body and b"evil.example" in foreign.body
    stats = server.stats()
    assert stats["fault_rates"]["post_429"] == 0 and stats["fault_seed_reproducible"] is True


def test_a_script_changes_the_fault_rates_with_the_token(served):
    server = served("--dashboard", "--post-429", "0.5", "--fault-seed", "3")
    secret = token(server)
    before = server.stats()
    assert before["fault_rates"] == {"post_410": 0, "post_429": 0.5, "drop_disconnect": 0}
    assert before["fault_seed_reproducible"] is True
    bad = request(server, "PUT", "/_wsrelay/faults", b'{"post_429": 2}', x_wsrelay_token=secret)
    assert bad.status == 400 and b"post_429" in bad.body
    unknown = request(server, "PUT", "/_wsrelay/faults", b'{"latency": 1}', x_wsrelay_token=secret)
    assert unknown.status == 400
    changed = request(server, "PUT", "/_wsrelay/faults", b'{"post_410": 0.25}', x_wsrelay_token=secret)
    assert changed.status == 200, changed
    stats = server.stats()
    assert stats["fault_rates"] == {"post_410": 0.25, "post_429": 0, "drop_disconnect": 0}  # replaced
    assert stats["fault_seed_reproducible"] is False and len(stats["fault_live_changes"]) == 1
    assert stats["fault_seed"] == 3
    own = request(
        server,
        "PUT",
        "/_wsrelay/faults",
        b"{}",
        x_wsrelay_token=secret,
        origin=dashboard_url(server).split("/_wsrelay")[0],
    )
    assert own.status == 200  # the page itself
    assert server.stats()["fault_rates"]["post_410"] == 0


def test_close_and_post_act_as_the_management_api(served):
    server = served("--dashboard")
    secret = token(server)

    def state() -> dict:
        return request(server, "GET", f"/_wsrelay/state?token={secret}").json()

    async def scenario():
        async with websockets.connect(server.websocket) as client:
            connections = await wait_until_async(lambda: state()["connections"], what="the connection")
            connection_id = connections[0]["connectionId"]
            quoted = connection_id.replace("/", "%2F").replace("+", "%2B").replace("=", "%3D")
            path = f"/_wsrelay/connections/{quoted}"
            posted = await asyncio.to_thread(request, server, "POST", path, "hello", x_wsrelay_token=secret)
            assert posted.status == 200
            assert await client.recv() == "hello"
            row = await wait_until_async(lambda: state()["connections"][0]["messagesOut"] == 1, what="out 1")
            assert row
            closed = await asyncio.to_thread(request, server, "DELETE", path, x_wsrelay_token=secret)
            assert closed.status == 204
            await client.wait_closed()
            assert client.close_code == 1000
            gone = await asyncio.to_thread(request, server, "DELETE", path, x_wsrelay_token=secret)
            assert gone.status == 410 and gone.headers["x-amzn-errortype"] == "GoneException"

    run(scenario())


def test_the_event_stream_carries_the_gateways_events(served):
    server = served("--dashboard")
    stream = EventStream(server, token(server))
    try:
        assert stream.response.status == 200
        assert stream.response.getheader("Content-Type") == "text/event-stream"

        async def traffic():
            async with (
                websockets.connect(server.websocket) as router,
                websockets.connect(server.websocket) as w,
            ):
                await router.send("subscribe: job-sse")
                await wait_until_async(lambda: server.invocations() >= 1, what="the subscribe")
                await w.send(json.dumps({"guid": "job-sse", "code": 0}))
                await router.recv()
                await router.send("ack: job-sse")
                await w.recv()

        run(traffic())
        connect = stream.until(lambda e: e["kind"] == "connect")
        assert set(connect) >= {"kind", "t", "connectionId", "ordinal", "sourceIp"}
        publish = stream.until(lambda e: e.get("frame") == "publish")
        assert publish["guid"] == "job-sse" and publish["route"] == "$default" and publish["outcome"] == "ok"
        delivered = stream.until(lambda e: e["kind"] == "post" and e["what"] == "result")
        assert delivered["status"] == 200 and delivered["guid"] == "job-sse"
        ack = stream.until(lambda e: e["kind"] == "post" and e["what"] == "ack")
        assert ack["acknowledgedBy"] != "wsrelay:stored"  # router mode: the router's id
        stream.until(lambda e: e["kind"] == "disconnect")
        assert wait_until(lambda: server.stats()["dashboard"]["streams"] == 1, what="one stream")
    finally:
        stream.close()
    wait_until(lambda: server.stats()["dashboard"]["streams"] == 0, what="the stream detached")


def test_roles_show_when_authorization_is_on(served, tmp_path):
    server = served("--dashboard", "--auth-secret-file", str(secret_file(tmp_path)))
    secret = token(server)
    stream = EventStream(server, secret)

    async def connect_and_look() -> list[dict]:
        url = f"{server.websocket}?token={auth_token('subscriber')}"
        async with websockets.connect(url):
            path = f"/_wsrelay/state?token={secret}"
            return await wait_until_async(
                lambda: request(server, "GET", path).json()["connections"], what="the connection"
            )

    try:
        (row,) = run(connect_and_look())
        assert row["role"] == "subscriber"
        assert stream.until(lambda e: e["kind"] == "connect")["role"] == "subscriber"
        assert request(server, "GET", f"/_wsrelay/state?token={secret}").json()["authorization"] == "token"
    finally:
        stream.close()


def test_cold_starts_per_route_on_demand(served):
    server = served("--dashboard", "--cold-start-ms", "0", runtime="ondemand")
    secret = token(server)

    async def connect() -> dict:
        async with websockets.connect(server.websocket) as client:
            await client.send("ping")
            assert await client.recv() == "pong"
            path = f"/_wsrelay/state?token={secret}"
            return await wait_until_async(
                lambda: (
                    (state := request(server, "GET", path).json())["coldStarts"].get("$default") and state
                ),
                what="the $default cold start",
            )

    state = run(connect())
    assert state["runtime"] == "ondemand"
    assert state["coldStarts"]["$connect"] == 1 and state["coldStarts"]["$default"] == 1
