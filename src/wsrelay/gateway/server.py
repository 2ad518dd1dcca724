"""The local API Gateway WebSocket emulator: one port for WebSocket clients and the Management API.

- ``ws://HOST:PORT/STAGE``: WebSocket connections. The opening handshake runs ``$connect`` first
  (a non-2xx result rejects the upgrade); every message is routed by the route selection
  expression to its route (``$default`` otherwise); the close runs ``$disconnect`` with its
  ``disconnectStatusCode``. Frames over 32 KB or messages over 128 KB close with 1009; 10 min
  idle and 2 h max duration close with 1001 (all configurable).
- ``http://HOST:PORT/STAGE/@connections/{id}``: POST (data <= 128 KB, else 413), GET, DELETE,
  410 ``GoneException`` for unknown or closed ids; boto3's ``apigatewaymanagementapi`` client
  works against it unchanged (its signature is accepted, its percent-encoded ids decoded).
- ``GET /_wsrelay/stats``: counters and latency percentiles as JSON.

WebSocket framing is python-websockets' sans-I/O ``ServerProtocol``; HTTP/1.1 is h11. Both are
driven here on asyncio streams, so the gateway controls handshake, quotas and close codes the
way API Gateway does.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import json
import random
import time
import urllib.parse
from typing import Any

import h11
from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from wsrelay.gateway.console import Console
from wsrelay.gateway.events import Api, ConnectionInfo, connect_event, disconnect_event, message_event
from wsrelay.gateway.runtimes import Invocation, Runtime
from wsrelay.gateway.settings import GatewaySettings
from wsrelay.gateway.stats import GatewayStats

HEAD_LIMIT = 16 * 1024
SEND_BUFFER_LIMIT = 4 * 1024 * 1024
_CLOSE_REASONS = {
    1000: "Normal closure",
    1001: "Going away",
    1006: "Connection closed abnormally",
    1007: "Invalid frame payload data",
    1009: "Message too big",
}


def _iso(epoch_s: float) -> str:
    moment = datetime.datetime.fromtimestamp(epoch_s, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Connection:
    """One open WebSocket connection and its protocol state."""

    def __init__(self, info: ConnectionInfo, proto: ServerProtocol, writer: asyncio.StreamWriter) -> None:
        self.info = info
        self.proto = proto
        self.writer = writer
        self.last_active = time.time()
        self.close_code: int | None = None
        self.close_reason = ""
        self.watchdog: asyncio.TimerHandle | None = None

    @property
    def connection_id(self) -> str:
        return self.info.connection_id

    @property
    def open(self) -> bool:
        return self.proto.state is State.OPEN and not self.writer.is_closing()

    def flush(self) -> None:
        for chunk in self.proto.data_to_send():
            if chunk:
                self.writer.write(chunk)
            elif self.writer.can_write_eof():
                with contextlib.suppress(OSError):
                    self.writer.write_eof()

    def send(self, data: bytes) -> None:
        """Queue a message on the transport (text when it is UTF-8, else binary)."""
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            self.proto.send_binary(data)
        else:
            self.proto.send_text(data)
        self.flush()

    def close(self, code: int, reason: str) -> None:
        """Start a server-side close (idle timeout, DELETE, shutdown)."""
        if self.proto.state is State.OPEN:
            self.proto.send_close(code, reason)
            self.flush()
        self.writer.close()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a dead client)."""
        self.close_code = 1006
        transport = self.writer.transport
        transport.abort()


class Gateway:
    """The emulator. `start` binds the port; `stop` closes every connection ($disconnect each)."""

    def __init__(self, settings: GatewaySettings, runtime: Runtime | None = None) -> None:
        self.settings = settings
        self.runtime: Runtime | None = runtime
        self.connections: dict[str, Connection] = {}
        self.stats = GatewayStats()
        self.api = Api(stage=settings.stage, domain_name=settings.host)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http_tasks: set[asyncio.Task[Any]] = set()
        self._selection_path = settings.route_selection_expression.removeprefix("$request.body.").split(".")
        self._selection_key = f'"{self._selection_path[0]}"'  # cheap test before parsing JSON
        self.loop: asyncio.AbstractEventLoop | None = None
        self.console = None if settings.quiet else Console()
        self._console_task: asyncio.Task[None] | None = None
        self.port = settings.port
        self.ready = asyncio.Event()  # set once the runtime is up; clients wait for it

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._server = await asyncio.start_server(
            self._on_client, self.settings.host, self.settings.port, limit=HEAD_LIMIT
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.api = Api(stage=self.settings.stage, domain_name=f"{self.settings.host}:{self.port}")
        if self.console is not None:
            self._console_task = asyncio.create_task(self.console.run())

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.settings.host}:{self.port}/{self.settings.stage}"

    @property
    def management_endpoint(self) -> str:
        return f"http://{self.settings.host}:{self.port}/{self.settings.stage}"

    async def stop(self) -> None:
        """Stop accepting, close every connection with 1001 and run their $disconnect."""
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections.values()):
            conn.close(1001, "Going away")
        # WebSocket closes and in-flight messages first (their handlers may still post) ...
        pending = [t for t in self._tasks if not t.done() and t not in self._http_tasks]
        if pending:
            await asyncio.wait(pending, timeout=self.settings.integration_timeout_s + 1)
        # ... then the Management API's keep-alive connections (boto3 pools hold them open).
        for task in list(self._http_tasks):
            task.cancel()
        if self._http_tasks:
            await asyncio.wait(list(self._http_tasks), timeout=2)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
        if self._console_task is not None:
            self._console_task.cancel()
        if self.console is not None:
            self.console.flush()

    def _track(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- dispatch ----------------------------------------------------------------------------

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        await self.ready.wait()
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        try:
            if b"upgrade: websocket" in head.lower():
                await self._websocket(head, reader, writer)
            else:
                if task is not None:  # keep-alive connections `stop` must cancel
                    self._http_tasks.add(task)
                    task.add_done_callback(self._http_tasks.discard)
                await self._http(head, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the peer went away, or `stop` closed a keep-alive connection
        finally:
            writer.close()

    async def invoke(self, route: str, event: dict[str, Any]) -> Invocation:
        """Run the route's handler on the runtime, count it and print its console line."""
        assert self.runtime is not None
        handler = self.settings.routes.get(route) or self.settings.routes["$default"]
        return self._account(route, event, await self.runtime.invoke(handler, event))

    def _account(self, route: str, event: dict[str, Any], invocation: Invocation) -> Invocation:
        stats = self.stats.routes[route]
        stats.invocations += 1
        stats.latencies_ms.append(invocation.duration_ms)
        if invocation.failure == "throttled":
            stats.throttles += 1
        elif invocation.failure == "timeout":
            stats.timeouts += 1
            stats.errors += 1
        elif invocation.failure is not None or (invocation.status_code or 200) >= 500:
            stats.errors += 1
        if invocation.cold_start:
            self.stats.cold_starts += 1
        if self.console is not None:
            self.console.invocation(
                route,
                event["requestContext"]["connectionId"],
                invocation.failure or str(invocation.status_code),
                invocation.duration_ms,
                invocation.cold_start,
                invocation.detail,
            )
        return invocation

    # -- WebSocket ---------------------------------------------------------------------------

    async def _websocket(
        self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        settings = self.settings
        proto = ServerProtocol(max_size=(settings.message_limit, settings.frame_limit))
        proto.receive_data(head)
        events = proto.events_received()
        if not events or not isinstance(events[0], Request):
            writer.write(b"".join(proto.data_to_send()))
            return
        request = events[0]
        path, _, query = request.path.partition("?")
        if path.rstrip("/") != f"/{settings.stage}":
            await self._reject(proto, writer, 403, "Forbidden")
            return
        response = proto.accept(request)
        if response.status_code != 101:
            proto.send_response(response)
            writer.write(b"".join(proto.data_to_send()))
            self.stats.connections_rejected += 1
            return
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        headers = {name: value for name, value in request.headers.raw_items()}
        info = ConnectionInfo(
            source_ip=str(peer[0]),
            user_agent=request.headers.get("User-Agent"),
            headers=headers,
            query=dict(urllib.parse.parse_qsl(query)),
        )
        invocation = await self.invoke("$connect", connect_event(self.api, info))
        status = invocation.status_code
        if status is None or not 200 <= status < 300:
            await self._reject(proto, writer, status if status and status >= 400 else 500, "Forbidden")
            return
        proto.send_response(response)
        conn = Connection(info, proto, writer)
        self.connections[info.connection_id] = conn
        self.stats.connections_opened += 1
        conn.flush()
        try:
            await self._pump(conn, reader)
        finally:
            if conn.watchdog is not None:
                conn.watchdog.cancel()
            self.connections.pop(info.connection_id, None)
            code, reason = self._close_code(conn)
            self.stats.closes[code] += 1
            writer.close()
            if random.random() >= settings.drop_disconnect:
                await self.invoke("$disconnect", disconnect_event(self.api, info, code, reason))

    async def _reject(
        self, proto: ServerProtocol, writer: asyncio.StreamWriter, status: int, text: str
    ) -> None:
        proto.send_response(proto.reject(status, text + "\n"))
        writer.write(b"".join(proto.data_to_send()))
        self.stats.connections_rejected += 1
        with contextlib.suppress(Exception):
            await writer.drain()

    @staticmethod
    def _close_code(conn: Connection) -> tuple[int, str]:
        if conn.close_code is not None:
            return conn.close_code, conn.close_reason or _CLOSE_REASONS.get(conn.close_code, "")
        proto = conn.proto
        close = proto.close_rcvd or proto.close_sent
        if close is None:
            return 1006, _CLOSE_REASONS[1006]
        return int(close.code), close.reason or _CLOSE_REASONS.get(int(close.code), "")

    def _watch(self, conn: Connection) -> None:
        """Close the connection at its idle or max-duration deadline (re-armed until then).

        A timer per connection instead of a timeout per read: `asyncio.wait_for` around every
        read cost ~12% of the gateway's CPU.
        """
        now = time.time()
        deadline = min(
            conn.last_active + self.settings.idle_timeout_s,
            conn.info.connected_at_ms / 1000 + self.settings.max_duration_s,
        )
        if now >= deadline:
            conn.close_code, conn.close_reason = 1001, "Going away"
            conn.close(1001, "Going away")
        else:
            assert self.loop is not None
            conn.watchdog = self.loop.call_later(deadline - now, self._watch, conn)

    async def _pump(self, conn: Connection, reader: asyncio.StreamReader) -> None:
        proto = conn.proto
        fragments: list[bytes] = []
        binary = False
        self._watch(conn)
        while True:
            try:
                data = await reader.read(65536)
            except ConnectionError:
                data = b""
            if not data:
                proto.receive_eof()
                conn.flush()
                return
            proto.receive_data(data)
            for frame in proto.events_received():
                if not isinstance(frame, Frame):
                    continue
                if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
                    fragments, binary = [bytes(frame.data)], frame.opcode is Opcode.BINARY
                elif frame.opcode is Opcode.CONT:
                    fragments.append(bytes(frame.data))
                else:
                    continue
                if frame.fin:
                    payload, fragments = b"".join(fragments), []
                    conn.last_active = time.time()
                    if not self._dispatch(conn, payload, binary):
                        return
            conn.flush()
            if proto.close_expected() or proto.state is State.CLOSED:
                return

    def _dispatch(self, conn: Connection, payload: bytes, binary: bool) -> bool:
        data: str | bytes = payload
        if not binary:
            try:
                data = payload.decode("utf-8")
            except UnicodeDecodeError:
                conn.close_code, conn.close_reason = 1007, _CLOSE_REASONS[1007]
                conn.close(1007, _CLOSE_REASONS[1007])
                return False
        if getattr(self.runtime, "inline", False):
            self._on_message_inline(conn, data)
        else:
            self._track(self._on_message(conn, data))
        return True

    def select_route(self, data: str | bytes) -> str:
        """Evaluate the route selection expression on a message body."""
        if isinstance(data, str) and data.startswith("{") and self._selection_key in data:
            try:
                value: Any = json.loads(data)
            except ValueError:
                return "$default"
            for key in self._selection_path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, str) and value in self.settings.routes:
                return value
        return "$default"

    async def _on_message(self, conn: Connection, data: str | bytes) -> None:
        route = self.select_route(data)
        event = message_event(self.api, conn.info, route, data)
        self._answer_failure(conn, event, await self.invoke(route, event))

    def _on_message_inline(self, conn: Connection, data: str | bytes) -> None:
        """`_on_message` for a runtime that runs handlers inline: no task per message."""
        assert self.runtime is not None
        route = self.select_route(data)
        event = message_event(self.api, conn.info, route, data)
        handler = self.settings.routes.get(route) or self.settings.routes["$default"]
        invocation = self.runtime.invoke_inline(handler, event)  # type: ignore[attr-defined]
        self._answer_failure(conn, event, self._account(route, event, invocation))

    def _answer_failure(self, conn: Connection, event: dict[str, Any], invocation: Invocation) -> None:
        """Tell the client an invocation failed, in API Gateway's words."""
        if invocation.failure is None:
            return
        message = "Endpoint request timed out" if invocation.failure == "timeout" else "Internal server error"
        error = {
            "message": message,
            "connectionId": conn.connection_id,
            "requestId": event["requestContext"]["requestId"],
        }
        if conn.open:
            with contextlib.suppress(ConnectionError, RuntimeError):
                conn.send(json.dumps(error).encode())

    # -- posting (Management API and the in-process outbound) ----------------------------------

    async def post(self, connection_id: str, data: bytes) -> int:
        """Deliver `data` to a connection; returns the HTTP status the Management API answers."""
        if self.settings.post_latency_ms:
            await asyncio.sleep(self.settings.post_latency_ms / 1000)
        return self.post_now(connection_id, data)

    def post_now(self, connection_id: str, data: bytes) -> int:
        """`post` without the injected latency, synchronously (on the event loop's thread)."""
        status = self._post_status(connection_id, data)
        self.stats.posts[str(status)] += 1
        return status

    def _post_status(self, connection_id: str, data: bytes) -> int:
        settings = self.settings
        if len(data) > settings.message_limit:
            return 413
        conn = self.connections.get(connection_id)
        if conn is None or not conn.open:
            return 410
        if settings.post_410 and random.random() < settings.post_410:
            conn.abort()  # as AWS would answer only for a dead connection
            return 410
        if settings.post_429 and random.random() < settings.post_429:
            return 429
        if conn.writer.transport.get_write_buffer_size() > SEND_BUFFER_LIMIT:
            return 429  # the client is not reading: AWS answers LimitExceededException
        try:
            conn.send(data)
        except (ConnectionError, RuntimeError):
            return 410
        return 200

    def connection_info(self, connection_id: str) -> dict[str, Any] | None:
        conn = self.connections.get(connection_id)
        if conn is None or not conn.open:
            return None
        return {
            "connectedAt": _iso(conn.info.connected_at_ms / 1000),
            "lastActiveAt": _iso(conn.last_active),
            "identity": {"sourceIp": conn.info.source_ip, "userAgent": conn.info.user_agent},
        }

    # -- HTTP --------------------------------------------------------------------------------

    async def _http(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        http = h11.Connection(h11.SERVER)
        http.receive_data(head)
        while True:
            try:
                event = http.next_event()
            except h11.RemoteProtocolError as error:
                await self._respond(http, writer, 400, {"message": f"Bad request: {error}"})
                return
            if event is h11.NEED_DATA:
                http.receive_data(await reader.read(65536))
                continue
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return
            if not isinstance(event, h11.Request):
                continue
            body = bytearray()
            too_large = False
            while True:
                part = http.next_event()
                if part is h11.NEED_DATA:
                    chunk = await reader.read(65536)
                    if not chunk:
                        return
                    http.receive_data(chunk)
                elif isinstance(part, h11.Data):
                    if len(body) + len(part.data) > self.settings.message_limit:
                        too_large = True
                    else:
                        body += part.data
                elif isinstance(part, h11.EndOfMessage):
                    break
            method = event.method.decode()
            target = event.target.decode()
            answer: tuple[int, dict[str, Any] | None, str | None]
            if too_large:
                answer = 413, {"message": "Request entity too large"}, "PayloadTooLargeException"
            else:
                answer = await self._route_http(method, target, bytes(body))
            await self._respond(http, writer, *answer)
            if http.our_state is h11.MUST_CLOSE or http.their_state is h11.MUST_CLOSE:
                return
            try:
                http.start_next_cycle()
            except h11.LocalProtocolError:
                return

    async def _respond(
        self,
        http: h11.Connection,
        writer: asyncio.StreamWriter,
        status: int,
        payload: dict[str, Any] | None,
        error_type: str | None = None,
    ) -> None:
        body = b"" if payload is None else json.dumps(payload).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if error_type:
            headers.append(("x-amzn-ErrorType", error_type))
        headers.append(("x-amzn-RequestId", ConnectionInfo().connection_id))
        try:
            writer.write(http.send(h11.Response(status_code=status, headers=headers)))
            if body:
                writer.write(http.send(h11.Data(data=body)))
            writer.write(http.send(h11.EndOfMessage()))
        except h11.LocalProtocolError:
            return
        await writer.drain()

    async def _route_http(
        self, method: str, target: str, body: bytes
    ) -> tuple[int, dict[str, Any] | None, str | None]:
        path = target.partition("?")[0]
        if path == "/_wsrelay/stats" and method == "GET":
            return 200, self.stats_snapshot(), None
        prefix = f"/{self.settings.stage}/@connections/"
        if not path.startswith(prefix) or "/" in path[len(prefix) :]:
            return 403, {"message": "Forbidden"}, "ForbiddenException"
        connection_id = urllib.parse.unquote(path[len(prefix) :])
        gone = ({"message": "Gone"}, "GoneException")
        if method == "POST":
            status = await self.post(connection_id, body)
            if status == 200:
                return 200, None, None
            errors = {
                410: gone,
                413: ({"message": "Request entity too large"}, "PayloadTooLargeException"),
                429: ({"message": "Limit exceeded"}, "LimitExceededException"),
            }
            payload, error = errors[status]
            return status, payload, error
        if method == "GET":
            info = self.connection_info(connection_id)
            return (200, info, None) if info is not None else (410, *gone)
        if method == "DELETE":
            conn = self.connections.get(connection_id)
            if conn is None or not conn.open:
                return (410, *gone)
            conn.close_code, conn.close_reason = 1000, "Normal closure"
            conn.close(1000, "")
            return 204, None, None
        return 405, {"message": f"Method {method} not allowed"}, None

    def stats_snapshot(self) -> dict[str, Any]:
        snapshot = self.stats.snapshot(len(self.connections), self.settings.runtime)
        describe = getattr(self.runtime, "describe", None)
        if describe is not None:
            snapshot["functions"] = describe()
        return snapshot
