"""The local gateway's HTTP side: API Gateway's Management API and the stats document.

- ``POST /STAGE/@connections/{id}`` (data <= the message limit, else 413), ``GET`` (the
  connection's times and identity), ``DELETE`` (close with 1000); 410 ``GoneException`` for an
  unknown or closed id. boto3's ``apigatewaymanagementapi`` client works against it unchanged
  (its signature is accepted, its percent-encoded ids decoded).
- ``GET /_wsrelay/stats``: counters and latency percentiles as JSON.
- with ``--dashboard``, the dashboard's page, event stream and actions
  (`wsrelay.local.dashboard.routes`); without it their paths are unknown paths (403).

HTTP/1.1 is h11, driven on the connection's asyncio streams, keep-alive included. Errors come
from the one table in `wsrelay.outbound.api_errors`.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import h11

from wsrelay.local.events import aws_id
from wsrelay.local.open_connections import Connections
from wsrelay.outbound.api_errors import error_for

if TYPE_CHECKING:
    from wsrelay.local.dashboard.routes import Dashboard

STATS_PATH = "/_wsrelay/stats"
READ_SIZE = 65536

# (status, JSON body or None, x-amzn-ErrorType or None)
Answer = tuple[int, dict[str, Any] | None, str | None]


def error_answer(status: int) -> Answer:
    """An error as the Management API answers it."""
    error = error_for(status)
    return status, {"message": error.message}, error.error_type


class ManagementApi:
    """Routes HTTP requests to the connections and the stats."""

    def __init__(
        self,
        stage: str,
        message_limit: int,
        connections: Connections,
        stats: Callable[[], dict[str, Any]],
        dashboard: Dashboard | None = None,
    ) -> None:
        self.prefix = f"/{stage}/@connections/"
        self.message_limit = message_limit
        self.connections = connections
        self.stats = stats
        self.dashboard = dashboard  # with --dashboard: its paths under /_wsrelay/ (docs/dashboard.md)

    async def route(self, method: str, target: str, body: bytes) -> Answer:
        """The answer to one request."""
        path = target.partition("?")[0]
        if path == STATS_PATH and method == "GET":
            return 200, self.stats(), None
        if not path.startswith(self.prefix) or "/" in path[len(self.prefix) :]:
            return error_answer(403)
        connection_id = urllib.parse.unquote(path[len(self.prefix) :])
        if method == "POST":
            status = await self.connections.post(connection_id, body)
            return (200, None, None) if status == 200 else error_answer(status)
        if method == "GET":
            info = self.connections.describe(connection_id)
            return (200, info, None) if info is not None else error_answer(410)
        if method == "DELETE":
            return (204, None, None) if self.connections.delete(connection_id) else error_answer(410)
        return 405, {"message": f"Method {method} not allowed"}, None

    async def serve(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer requests on one HTTP connection (starting with `head`) until it closes."""
        http = h11.Connection(h11.SERVER)
        http.receive_data(head)
        while True:
            try:
                event = http.next_event()
            except h11.RemoteProtocolError as error:
                await _respond(http, writer, (400, {"message": f"Bad request: {error}"}, None))
                return
            if event is h11.NEED_DATA:
                http.receive_data(await reader.read(READ_SIZE))
                continue
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return
            if not isinstance(event, h11.Request):
                continue
            try:
                body = await self._body(http, reader)
            except h11.RemoteProtocolError as error:  # e.g. an illegal chunk header
                await _respond(http, writer, (400, {"message": f"Bad request: {error}"}, None))
                return
            if body is None:
                return
            if self.dashboard is not None and self.dashboard.owns(event.target.decode().partition("?")[0]):
                if not await self.dashboard.serve(http, event, body, reader, writer):
                    return  # an event stream, ended with its connection
            else:
                if len(body) > self.message_limit:
                    answer = error_answer(413)
                else:
                    answer = await self.route(event.method.decode(), event.target.decode(), body)
                await _respond(http, writer, answer)
            if http.our_state is h11.MUST_CLOSE or http.their_state is h11.MUST_CLOSE:
                return
            try:
                http.start_next_cycle()
            except h11.LocalProtocolError:
                return

    async def _body(self, http: h11.Connection, reader: asyncio.StreamReader) -> bytes | None:
        """The request's body (kept up to one byte past the limit); None when the peer left."""
        body = bytearray()
        while True:
            part = http.next_event()
            if part is h11.NEED_DATA:
                chunk = await reader.read(READ_SIZE)
                if not chunk:
                    return None
                http.receive_data(chunk)
            elif isinstance(part, h11.Data):
                if len(body) <= self.message_limit:
                    body += part.data[: self.message_limit + 1 - len(body)]
            elif isinstance(part, h11.EndOfMessage):
                return bytes(body)


async def _respond(http: h11.Connection, writer: asyncio.StreamWriter, answer: Answer) -> None:
    status, payload, error_type = answer
    body = b"" if payload is None else json.dumps(payload).encode()
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if error_type:
        headers.append(("x-amzn-ErrorType", error_type))
    headers.append(("x-amzn-RequestId", aws_id()))
    try:
        writer.write(http.send(h11.Response(status_code=status, headers=headers)))
        if body:
            writer.write(http.send(h11.Data(data=body)))
        writer.write(http.send(h11.EndOfMessage()))
    except h11.LocalProtocolError:
        return
    await writer.drain()
