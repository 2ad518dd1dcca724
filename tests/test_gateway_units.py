"""The gateway's parts in process, without sockets: route selection, the Management API's
routing, close codes, and the in-process runtime's own relay instance."""

from __future__ import annotations

import asyncio
import os
import sys
from urllib.parse import quote

import pytest
from websockets.frames import Close, CloseCode, Frame, Opcode
from websockets.server import ServerProtocol

from wsrelay.local.connection import Connection
from wsrelay.local.events import Api, ConnectionInfo, message_event
from wsrelay.local.faults import Faults
from wsrelay.local.http_api import ManagementApi
from wsrelay.local.open_connections import Connections
from wsrelay.local.runtimes.base import Failure, Invocation
from wsrelay.local.runtimes.inprocess.runtime import InProcessRuntime
from wsrelay.local.runtimes.inprocess.store import OwnedSqliteStore
from wsrelay.local.settings import HANDLERS, GatewaySettings
from wsrelay.local.stats import GatewayStats
from wsrelay.local.websocket import RouteSelector, failure_answer
from wsrelay.ports import PostReport, PostResult, PostStatus

HANDSHAKE = (
    b"GET /local HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


class FakeTransport:
    def __init__(self) -> None:
        self.aborted = False
        self.buffered = 0

    def get_write_buffer_size(self) -> int:
        return self.buffered

    def abort(self) -> None:
        self.aborted = True


class FakeWriter:
    """What `Connection` needs of an asyncio StreamWriter, recording the bytes written."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.closed = False
        self.transport = FakeTransport()

    def write(self, chunk: bytes) -> None:
        self.data += chunk

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def can_write_eof(self) -> bool:
        return False


def open_connection(ordinal: int = 1) -> tuple[Connection, FakeWriter]:
    """A connection past its opening handshake, over a fake writer."""
    proto = ServerProtocol(max_size=(128 * 1024, 32 * 1024))
    proto.receive_data(HANDSHAKE)
    proto.send_response(proto.accept(proto.events_received()[0]))
    proto.data_to_send()
    writer = FakeWriter()
    return Connection(ConnectionInfo(), proto, writer, ordinal), writer  # type: ignore[arg-type]


def client_frame(opcode: Opcode, data: bytes, fin: bool = True) -> bytes:
    return Frame(opcode, data, fin).serialize(mask=True)


# -- route selection ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "route"),
    [
        ('{"action":"meet"}', "meet"),
        ('{"action":"nosuchroute"}', "$default"),
        ('{"action":1}', "$default"),
        ('{"action": "meet", "x": [1]}', "meet"),
        ('{"action":', "$default"),  # not JSON
        ("subscribe: g", "$default"),
        ('["action"]', "$default"),
        (b'{"action":"meet"}', "$default"),  # binary frames are never selected by body
    ],
)
def test_route_selection(body, route):
    selector = RouteSelector("$request.body.action", {**HANDLERS, "meet": "m.f"})
    assert selector.select(body) == route


def test_route_selection_follows_a_nested_path():
    selector = RouteSelector("$request.body.job.kind", {**HANDLERS, "compile": "m.f"})
    assert selector.select('{"job":{"kind":"compile"}}') == "compile"
    assert selector.select('{"job":"compile"}') == "$default"


def test_a_failed_invocation_is_answered_in_api_gateways_words():
    timeout = Invocation(None, Failure.TIMEOUT)
    error = Invocation(None, Failure.ERROR)
    assert failure_answer(timeout, "C=", "R")["message"] == "Endpoint request timed out"
    assert failure_answer(error, "C=", "R") == {
        "message": "Internal server error",
        "connectionId": "C=",
        "requestId": "R",
    }
    assert failure_answer(Invocation(200), "C=", "R") is None


# -- Management API routing -----------------------------------------------------------------


def management(**settings) -> tuple[ManagementApi, Connections]:
    connections = Connections(GatewaySettings(**settings), GatewayStats(), Faults(seed=1))
    return ManagementApi("local", 128 * 1024, connections, lambda: {"ok": True}), connections


def test_management_api_posts_gets_and_deletes():
    api, connections = management()
    conn, writer = open_connection()
    connections.add(conn)
    path = f"/local/@connections/{quote(conn.connection_id, safe='')}"

    assert asyncio.run(api.route("POST", path, b"result")) == (200, None, None)
    assert b"result" in writer.data
    status, info, _ = asyncio.run(api.route("GET", path, b""))
    assert status == 200 and info["identity"]["sourceIp"] == "127.0.0.1"
    assert info["connectedAt"].endswith("Z")
    sent = len(writer.data)
    assert asyncio.run(api.route("DELETE", path, b"")) == (204, None, None)
    assert conn.close_status() == (1000, "Normal closure")  # what $disconnect reports
    assert bytes(writer.data[sent:]) == b"\x88\x02\x03\xe8"  # the close frame: 1000, no reason
    assert asyncio.run(api.route("POST", path, b"x")) == (410, {"message": "Gone"}, "GoneException")
    assert asyncio.run(api.route("DELETE", path, b""))[0] == 410
    assert connections.stats.posts == {"200": 1, "410": 1}


def test_management_api_refuses_what_aws_refuses():
    api, connections = management(message_limit=8)
    conn, _ = open_connection()
    connections.add(conn)
    path = f"/local/@connections/{quote(conn.connection_id, safe='')}"
    too_big = asyncio.run(api.route("POST", path, b"123456789"))
    assert too_big == (413, {"message": "Request entity too large"}, "PayloadTooLargeException")
    assert asyncio.run(api.route("GET", "/other/@connections/x", b""))[2] == "ForbiddenException"
    assert asyncio.run(api.route("GET", "/local/@connections/a/b", b""))[0] == 403
    assert asyncio.run(api.route("PUT", path, b""))[0] == 405
    assert asyncio.run(api.route("GET", "/_wsrelay/stats", b"")) == (200, {"ok": True}, None)


def test_a_client_that_stops_reading_is_answered_429():
    api, connections = management()
    conn, writer = open_connection()
    connections.add(conn)
    writer.transport.buffered = 5 * 1024 * 1024
    answer = asyncio.run(api.route("POST", f"/local/@connections/{quote(conn.connection_id, safe='')}", b"x"))
    assert answer == (429, {"message": "Limit exceeded"}, "LimitExceededException")


# -- close codes ----------------------------------------------------------------------------


def test_a_close_the_gateway_starts_is_recorded_with_its_reason():
    conn, writer = open_connection()
    conn.close(CloseCode.GOING_AWAY)
    assert conn.close_status() == (1001, "Going away")
    assert writer.data[0] == 0x88 and writer.closed  # a close frame went out
    conn.close(CloseCode.NORMAL_CLOSURE)  # a second close changes nothing
    assert conn.close_status() == (1001, "Going away")
    assert bytes(writer.data) == b"\x88\x0c\x03\xe9Going away"


def test_a_close_racing_the_clients_close_frame_keeps_the_clients_code():
    conn, _ = open_connection()
    conn.receive(client_frame(Opcode.CLOSE, Close(4001, "mine").serialize()))
    conn.close(CloseCode.GOING_AWAY)  # the idle timer fires after the client's close arrived
    assert conn.close_status() == (4001, "mine")


def test_an_aborted_connection_closes_1006():
    conn, writer = open_connection()
    conn.abort()
    assert writer.transport.aborted
    assert conn.close_status() == (1006, "Connection closed abnormally")


def test_the_clients_close_frame_decides():
    conn, _ = open_connection()
    assert conn.receive(client_frame(Opcode.CLOSE, Close(4000, "bye").serialize())) == []
    assert conn.finished
    assert conn.close_status() == (4000, "bye")


def test_no_close_frame_at_all_is_1006():
    conn, _ = open_connection()
    conn.receive(b"")  # EOF
    assert conn.close_status() == (1006, "Connection closed abnormally")


def test_a_frame_over_the_limit_closes_1009():
    conn, writer = open_connection()
    assert conn.receive(client_frame(Opcode.TEXT, b"x" * (32 * 1024 + 1))) == []
    conn.flush()
    assert conn.close_status()[0] == 1009
    assert writer.data[0] == 0x88


def test_fragments_are_assembled_into_one_message():
    conn, _ = open_connection()
    data = client_frame(Opcode.TEXT, b"sub", fin=False) + client_frame(Opcode.CONT, b"scribe: g", fin=False)
    assert conn.receive(data) == []
    assert conn.receive(client_frame(Opcode.CONT, b"1")) == [(b"subscribe: g1", False)]
    assert conn.receive(client_frame(Opcode.BINARY, b"\xff")) == [(b"\xff", True)]


# -- the in-process runtime -----------------------------------------------------------------


class RecordingOutbound:
    def __init__(self) -> None:
        self.posts: list[tuple[str, str]] = []

    def post(self, connection_ids, data: str) -> PostReport:
        ids = list(connection_ids)
        self.posts.extend((cid, data) for cid in ids)
        return PostReport([PostResult(cid, PostStatus.DELIVERED) for cid in ids])


def test_in_process_runtime_runs_its_own_relay_and_imports_other_routes(tmp_path):
    sys.modules.pop("wsrelay.handlers", None)
    environment = dict(os.environ)
    settings = GatewaySettings(
        state_dir=tmp_path, route=("reject=gateway_handlers.reject", "explode=gateway_handlers.explode")
    )
    assert settings.routes == {
        **HANDLERS,
        "reject": "gateway_handlers.reject",
        "explode": "gateway_handlers.explode",
    }
    outbound = RecordingOutbound()
    runtime = InProcessRuntime(settings, "http://127.0.0.1:1/local", outbound, inline=True)
    api, router = Api(), ConnectionInfo()

    async def scenario() -> list[Invocation | object]:
        await runtime.start()
        try:
            return [
                runtime.invoke(HANDLERS["$default"], message_event(api, router, "$default", "subscribe: g")),
                runtime.invoke(HANDLERS["$default"], message_event(api, router, "$default", "ping")),
                runtime.invoke("gateway_handlers.reject", message_event(api, router, "reject", "{}")),
                runtime.invoke("gateway_handlers.explode", message_event(api, router, "explode", "{}")),
            ]
        finally:
            await runtime.stop()

    subscribed, pinged, rejected, exploded = asyncio.run(scenario())
    assert isinstance(subscribed, Invocation) and subscribed.status_code == 200  # inline: no await
    assert isinstance(pinged, Invocation) and outbound.posts == [(router.connection_id, "pong")]
    assert isinstance(rejected, Invocation) and rejected.status_code == 403
    assert isinstance(exploded, Invocation) and exploded.failure is Failure.ERROR
    assert "RuntimeError: boom" in (exploded.detail or "")
    assert "wsrelay.handlers" not in sys.modules  # the Lambda face was never initialised
    assert dict(os.environ) == environment
    store = OwnedSqliteStore(tmp_path / "relay.sqlite3", 600)  # stop() flushed the store
    assert store.subscribe("g", "other", 0.0).subscribers == {router.connection_id, "other"}
    store.close()
    lines = (tmp_path / "handlers.log").read_text().splitlines()
    assert [line.count('"outcome":"subscribed"') for line in lines][:1] == [1]


class FakeReader:
    """What `ManagementApi.serve` reads after the head: the rest of the request, then EOF."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    async def read(self, n: int) -> bytes:
        chunk, self.data = self.data[:n], self.data[n:]
        return chunk


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"POST /local/@connections/abc HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n",
        b"POST /local/@connections/abc HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
    ],
    ids=["illegal chunk header", "conflicting lengths"],
)
def test_a_malformed_http_request_is_answered_400(request_bytes):
    api, _ = management()
    head, _, rest = request_bytes.partition(b"\r\n\r\n")
    writer = FakeWriter()

    async def drain() -> None:
        return None

    writer.drain = drain  # type: ignore[attr-defined]
    asyncio.run(api.serve(head + b"\r\n\r\n", FakeReader(rest), writer))  # type: ignore[arg-type]
    assert bytes(writer.data).startswith(b"HTTP/1.1 400 ")
    assert b"Bad request" in bytes(writer.data)
