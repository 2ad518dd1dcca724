"""The WebSocket side of the local gateway: the opening handshake (with ``--auth token`` the
``$connect`` authorizer first, with ``--auth iam`` the upgrade's SigV4 signature; then
``$connect`` decides; a non-2xx result rejects the upgrade), route selection, dispatch of every
message to its route, API Gateway's answers to a failed invocation, the idle and max-duration
deadlines, and the close (``$disconnect`` with its ``disconnectStatusCode``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.frames import CloseCode
from websockets.http11 import Request
from websockets.server import ServerProtocol

from wsrelay.local.authorization import GatewayAuthorizer
from wsrelay.local.connection import Connection
from wsrelay.local.events import Api, ConnectionInfo, connect_event, disconnect_event, message_event
from wsrelay.local.faults import LIFETIME
from wsrelay.local.iam import SigV4Check
from wsrelay.local.invoker import Invoker
from wsrelay.local.open_connections import Connections
from wsrelay.local.runtimes.base import Event, Failure, Invocation
from wsrelay.local.settings import AUTHORIZER, TOKEN_AUTH, GatewaySettings
from wsrelay.local.stats import GatewayStats

READ_SIZE = 65536


class RouteSelector:
    """API Gateway's route selection: ``$request.body.a.b`` of a JSON message names its route
    when that route exists; anything else goes to ``$default``."""

    def __init__(self, expression: str, routes: dict[str, str]) -> None:
        self.path = expression.removeprefix("$request.body.").split(".")
        self.key = f'"{self.path[0]}"'  # cheap test before parsing JSON
        self.routes = routes

    def select(self, data: str | bytes) -> str:
        if isinstance(data, str) and data.startswith("{") and self.key in data:
            try:
                value: Any = json.loads(data)
            except ValueError:
                return "$default"
            for key in self.path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str) and value in self.routes:
                return value
        return "$default"


def failure_answer(invocation: Invocation, connection_id: str, request_id: str) -> dict[str, str] | None:
    """What API Gateway sends the client when an invocation failed (None when it did not)."""
    if invocation.failure is None:
        return None
    timed_out = invocation.failure is Failure.TIMEOUT
    message = "Endpoint request timed out" if timed_out else "Internal server error"
    return {"message": message, "connectionId": connection_id, "requestId": request_id}


class WebSocketSide:
    """Serves one upgraded connection from handshake to ``$disconnect``."""

    def __init__(
        self,
        settings: GatewaySettings,
        api: Api,
        connections: Connections,
        invoker: Invoker,
        stats: GatewayStats,
        track: Callable[[Awaitable[Any]], object],
    ) -> None:
        self.settings = settings
        self.api = api
        self.connections = connections
        self.invoker = invoker
        self.stats = stats
        self.track = track  # the server waits for these at shutdown
        message_routes = {key: h for key, h in settings.routes.items() if key != AUTHORIZER}
        self.selector = RouteSelector(settings.route_selection_expression, message_routes)
        self.authorize = GatewayAuthorizer(api, invoker) if settings.authorization == TOKEN_AUTH else None
        credentials = settings.iam_credentials()
        self.sigv4 = SigV4Check(*credentials) if credentials is not None else None

    async def serve(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Run the handshake in `head`, then the connection until it closes."""
        proto = ServerProtocol(max_size=(self.settings.message_limit, self.settings.frame_limit))
        proto.receive_data(head)
        events = proto.events_received()
        if not events or not isinstance(events[0], Request):
            writer.write(b"".join(proto.data_to_send()))
            return
        request = events[0]
        path, _, query = request.path.partition("?")
        if path.rstrip("/") != f"/{self.settings.stage}":
            await self._reject(proto, writer, 403)
            return
        if self.sigv4 is not None:  # IAM: API Gateway checks the signature before $connect
            status, _who = self.sigv4("GET", request.path, request.headers)
            if status is not None:
                await self._reject(proto, writer, status)
                return
        response = proto.accept(request)
        if response.status_code != 101:
            proto.send_response(response)
            writer.write(b"".join(proto.data_to_send()))
            self.stats.connections_rejected += 1
            return
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        info = ConnectionInfo(
            source_ip=str(peer[0]),
            user_agent=request.headers.get("User-Agent"),
            headers=dict(request.headers.raw_items()),
            query=dict(urllib.parse.parse_qsl(query)),
        )
        if self.authorize is not None:  # before $connect, as API Gateway runs its authorizer
            refused = await self.authorize(info)
            if refused is not None:
                await self._reject(proto, writer, refused)
                return
        invocation = await self.invoker.invoke_async("$connect", connect_event(self.api, info))
        status = invocation.status_code
        if status is None or not 200 <= status < 300:
            await self._reject(proto, writer, status if status and status >= 400 else 500)
            return
        proto.send_response(response)
        conn = Connection(info, proto, writer, self.connections.next_ordinal())
        conn.dropped_at = self.connections.faults.close_at(conn.ordinal, time.time())
        self.connections.add(conn)
        self.stats.connections_opened += 1
        conn.flush()
        try:
            await self._pump(conn, reader)
        finally:
            if conn.watchdog is not None:
                conn.watchdog.cancel()
            self.connections.remove(conn)
            code, reason = conn.close_status()
            self.stats.closes[code] += 1
            writer.close()
            if not self.connections.faults.on_close(conn.ordinal):
                await self.invoker.invoke_async("$disconnect", disconnect_event(self.api, info, code, reason))

    async def _reject(self, proto: ServerProtocol, writer: asyncio.StreamWriter, status: int) -> None:
        proto.send_response(proto.reject(status, "Unauthorized\n" if status == 401 else "Forbidden\n"))
        writer.write(b"".join(proto.data_to_send()))
        self.stats.connections_rejected += 1
        with contextlib.suppress(Exception):
            await writer.drain()

    def _watch(self, conn: Connection) -> None:
        """Close the connection at its idle or max-duration deadline, or at the end of its
        injected lifetime (re-armed until then).

        A timer per connection instead of a timeout per read: `asyncio.wait_for` around every
        read costs the gateway CPU on every frame (docs/benchmarks.md).
        """
        now = time.time()
        deadline = min(
            conn.last_active + self.settings.idle_timeout_s,
            conn.info.connected_at_ms / 1000 + self.settings.max_duration_s,
        )
        if conn.dropped_at is not None and now >= conn.dropped_at:
            conn.dropped_at = None
            faults = self.connections.faults
            # A timer that fires late (a busy loop) past the window's end injects nothing.
            if faults.active(now):
                faults.record(LIFETIME)
                conn.close(CloseCode.GOING_AWAY)
                return
        if conn.dropped_at is not None:
            deadline = min(deadline, conn.dropped_at)
        if now >= deadline:
            conn.close(CloseCode.GOING_AWAY)
        else:
            conn.watchdog = asyncio.get_running_loop().call_later(deadline - now, self._watch, conn)

    async def _pump(self, conn: Connection, reader: asyncio.StreamReader) -> None:
        self._watch(conn)
        while True:
            try:
                data = await reader.read(READ_SIZE)
            except ConnectionError:
                data = b""
            for payload, binary in conn.receive(data):
                if not self._dispatch(conn, payload, binary):
                    return
            conn.flush()
            if not data or conn.finished:
                return

    def _dispatch(self, conn: Connection, payload: bytes, binary: bool) -> bool:
        """Invoke the message's route; False when the connection must end (invalid UTF-8)."""
        data: str | bytes = payload
        if not binary:
            try:
                data = payload.decode("utf-8")
            except UnicodeDecodeError:
                conn.close(CloseCode.INVALID_DATA)
                return False
        route = self.selector.select(data)
        event = message_event(self.api, conn.info, route, data)
        invocation = self.invoker.invoke(route, event)
        if isinstance(invocation, Invocation):  # ran inline: no task per message
            self._answer_failure(conn, event, invocation)
        else:
            self.track(self._finish(conn, event, invocation))
        return True

    async def _finish(self, conn: Connection, event: Event, pending: Awaitable[Invocation]) -> None:
        self._answer_failure(conn, event, await pending)

    @staticmethod
    def _answer_failure(conn: Connection, event: Event, invocation: Invocation) -> None:
        answer = failure_answer(invocation, conn.connection_id, event["requestContext"]["requestId"])
        if answer is not None and conn.open:
            with contextlib.suppress(ConnectionError, RuntimeError):
                conn.send(json.dumps(answer).encode())
