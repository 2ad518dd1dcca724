"""The dashboard's HTTP side, on the gateway's port (`wsrelay.local.http_api` hands it every
``/_wsrelay/...`` request but the stats):

| request | answer |
|---|---|
| ``GET /_wsrelay/`` and its three assets | the page (package data, no CDN) |
| ``GET /_wsrelay/events?token=T`` | the server-sent-events stream (`feed`) |
| ``GET /_wsrelay/state?token=T`` | open connections, cold starts per route, faults, the feed's figures |
| ``DELETE /_wsrelay/connections/{id}`` | close it, as ``DELETE @connections/{id}`` (204, 410) |
| ``POST /_wsrelay/connections/{id}`` | post the body to it, as ``POST @connections/{id}`` |
| ``PUT /_wsrelay/faults`` (or POST) | replace the fault rates: ``{"post_410": F, ...}`` |

Everything but the page and its assets passes the `Guard` first (403 otherwise). Any other
path under ``/_wsrelay/`` is answered as the Management API answers an unknown path.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
import urllib.parse
from importlib import resources
from typing import Any

import h11

from wsrelay.local.dashboard.feed import Feed
from wsrelay.local.dashboard.guard import Guard, new_token, own_origins
from wsrelay.local.dashboard.observed import FAULT_RATES, LiveFaults, ObservedConnections, invocation_observer
from wsrelay.local.faults import Faults
from wsrelay.local.settings import GatewaySettings
from wsrelay.local.stats import GatewayStats
from wsrelay.outbound.api_errors import error_for

PREFIX = "/_wsrelay/"
ASSETS = {
    "": ("index.html", "text/html; charset=utf-8"),
    "model.js": ("model.js", "text/javascript; charset=utf-8"),
    "dashboard.js": ("dashboard.js", "text/javascript; charset=utf-8"),
    "dashboard.css": ("dashboard.css", "text/css; charset=utf-8"),
}
# The page loads only its own assets, talks only to its own origin and cannot be framed.
PAGE_HEADERS = [
    ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; base-uri 'none'"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "no-referrer"),
    ("Cache-Control", "no-store"),
]
CONNECTIONS = "connections/"
READ_SIZE = 4096

Response = tuple[int, bytes, str, list[tuple[str, str]]]


def _json(status: int, document: Any) -> Response:
    body = b"" if document is None else json.dumps(document).encode()
    return status, body, "application/json", []


def _error(status: int) -> Response:
    """An error as the Management API answers it."""
    error = error_for(status)
    return (
        status,
        json.dumps({"message": error.message}).encode(),
        "application/json",
        [("x-amzn-ErrorType", error.error_type)],
    )


class HttpStream:
    """An event stream on one HTTP connection: a chunked ``text/event-stream`` response."""

    def __init__(self, http: h11.Connection, writer: asyncio.StreamWriter) -> None:
        self.http = http
        self.writer = writer

    def send(self, payload: bytes) -> None:
        self.writer.write(self.http.send(h11.Data(data=payload)))

    def pending(self) -> int:
        return self.writer.transport.get_write_buffer_size()

    def drop(self) -> None:
        self.writer.transport.abort()


class Dashboard:
    """What ``--dashboard`` adds to a gateway: the feed, the observed connections and faults,
    the token and the routes."""

    def __init__(
        self,
        settings: GatewaySettings,
        connections: ObservedConnections,
        faults: LiveFaults,
        token: str,
        port: int,
    ) -> None:
        self.settings = settings
        self.connections = connections
        self.faults = faults
        self.feed = connections.feed
        self.token = token
        self.guard = Guard(token, own_origins(settings.host, port))
        self.url = f"http://{settings.host}:{port}{PREFIX}#token={token}"
        self.observer = invocation_observer(self.feed)
        package = resources.files("wsrelay.local.dashboard") / "static"
        self.assets = {
            path: (package.joinpath(name).read_bytes(), kind) for path, (name, kind) in ASSETS.items()
        }

    @classmethod
    def build(cls, settings: GatewaySettings, stats: GatewayStats, faults: Faults, port: int) -> Dashboard:
        """The dashboard over fresh connections and `faults` (a new token in the state dir)."""
        feed = Feed()
        live = LiveFaults(faults, feed)
        connections = ObservedConnections(settings, stats, live, feed)
        return cls(settings, connections, live, new_token(settings.state_dir), port)

    @staticmethod
    def owns(path: str) -> bool:
        """Whether `path` is one of the dashboard's (any other is the Management API's to answer)."""
        if not path.startswith(PREFIX):
            return False
        rest = path[len(PREFIX) :]
        if rest.startswith(CONNECTIONS):
            return "/" not in rest[len(CONNECTIONS) :]
        return rest in ASSETS or rest in ("events", "state", "faults")

    def add_to_stats(self, snapshot: dict[str, Any]) -> None:
        """The faults' live state and the feed's figures in ``/_wsrelay/stats``."""
        snapshot.update(self.faults.describe())
        if not self.faults.reproducible and "fault_window_s" in snapshot:
            snapshot["fault_window_s"] = None  # a live change ends the window
        snapshot["dashboard"] = self.feed.describe()

    def state(self) -> dict[str, Any]:
        """``GET /_wsrelay/state``."""
        return {
            "now": round(time.time(), 3),
            "runtime": self.settings.runtime,
            "authorization": self.settings.authorization,
            "publisherAck": self.settings.publisher_ack,
            "connections": self.connections.describe_all(),
            "coldStarts": dict(self.feed.cold_starts),
            "faults": {
                "seed": self.faults.seed,
                "injected": dict(self.feed.faults_seen),
                **self.faults.describe(),
            },
            "feed": self.feed.describe(),
        }

    def close(self) -> None:
        self.feed.close()

    async def serve(
        self,
        http: h11.Connection,
        request: h11.Request,
        body: bytes,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Answer one request; False when the connection is done (an event stream ended)."""
        method = request.method.decode()
        path, _, query = request.target.decode().partition("?")
        rest = path[len(PREFIX) :]
        headers = {name.decode().lower(): value.decode("latin-1") for name, value in request.headers}
        if rest in self.assets:
            answer = self._asset(method, rest)
        else:
            refused = self.guard.refuse(headers, urllib.parse.parse_qs(query).get("token", [None])[0])
            if refused is not None:
                answer = _json(403, {"message": refused})
            elif rest == "events" and method == "GET":
                await self._stream(http, reader, writer)
                return False
            else:
                answer = await self._route(method, rest, body)
        await _respond(http, writer, answer)
        return True

    def _asset(self, method: str, rest: str) -> Response:
        if method != "GET":
            return _json(405, {"message": f"Method {method} not allowed"})
        content, kind = self.assets[rest]
        return 200, content, kind, PAGE_HEADERS

    async def _route(self, method: str, rest: str, body: bytes) -> Response:
        if rest == "state":
            return _json(200, self.state()) if method == "GET" else _json(405, None)
        if rest == "faults":
            return self._replace_faults(body) if method in ("PUT", "POST") else _json(405, None)
        if rest.startswith(CONNECTIONS):
            connection_id = urllib.parse.unquote(rest[len(CONNECTIONS) :])
            if method == "DELETE":
                return (
                    (204, b"", "application/json", [])
                    if self.connections.delete(connection_id)
                    else _error(410)
                )
            if method == "POST":
                status = await self.connections.post(connection_id, body)
                return _json(200, None) if status == 200 else _error(status)
        return _json(405, None)

    def _replace_faults(self, body: bytes) -> Response:
        try:
            rates = json.loads(body or b"{}")
        except ValueError:
            return _json(400, {"message": "the body must be a JSON object of fault rates"})
        if not isinstance(rates, dict):
            return _json(400, {"message": "the body must be a JSON object of fault rates"})
        for name, value in rates.items():
            if name not in FAULT_RATES:
                return _json(400, {"message": f"unknown fault {name!r}; known: {', '.join(FAULT_RATES)}"})
            good = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
            if not good or not 0 <= value <= 1:
                return _json(400, {"message": f"{name} must be a fraction between 0 and 1"})
        self.faults.replace_rates(rates)
        return _json(200, self.faults.describe())

    async def _stream(
        self, http: h11.Connection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        headers = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-store")]
        writer.write(http.send(h11.Response(status_code=200, headers=headers)))
        stream = HttpStream(http, writer)
        stream.send(b"retry: 1000\n\n")  # EventSource reconnects after 1 s when dropped
        self.feed.attach(stream)
        try:
            while await reader.read(READ_SIZE):  # a page sends nothing: this waits for its close
                pass
        finally:
            self.feed.detach(stream)


async def _respond(http: h11.Connection, writer: asyncio.StreamWriter, answer: Response) -> None:
    status, body, kind, extra = answer
    headers = [("Content-Type", kind), ("Content-Length", str(len(body))), *extra]
    try:
        writer.write(http.send(h11.Response(status_code=status, headers=headers)))
        if body:
            writer.write(http.send(h11.Data(data=body)))
        writer.write(http.send(h11.EndOfMessage()))
    except h11.LocalProtocolError:
        return
    await writer.drain()
