"""A recording stand-in for API Gateway's Management API, on a real loopback HTTP socket.

Serves ``POST/GET/DELETE /{stage}/@connections/{id}`` the way AWS answers them and records every
post and every delete (a connection deleted once answers 410 to what follows, as in AWS). Each
connection can be given a script of HTTP statuses (the last one repeats), and every answer can
be delayed, so tests and benchmarks can exercise 410, 429-then-success, 500-forever and slow
posts against the real boto3 client.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from wsrelay.outbound.api_errors import error_for


@dataclass
class RecordedPost:
    """One POST the server received."""

    connection_id: str
    data: bytes
    status: int
    at: float


@dataclass
class RecordingManagementApi:
    """A threaded HTTP server on 127.0.0.1; use as a context manager."""

    stage: str = "test"
    latency_s: float = 0.0
    scripts: dict[str, list[int]] = field(default_factory=dict)
    posts: list[RecordedPost] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _attempts: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def endpoint(self) -> str:
        """The URL to give boto3 as ``endpoint_url`` (and WSRELAY_MANAGEMENT_ENDPOINT)."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_port}/{self.stage}"

    def delivered(self, connection_id: str | None = None) -> list[str]:
        """Texts delivered (2xx) in arrival order, optionally to one connection."""
        with self._lock:
            return [
                p.data.decode()
                for p in self.posts
                if p.status == 200 and connection_id in (None, p.connection_id)
            ]

    def attempts(self, connection_id: str) -> int:
        """How many posts reached `connection_id`, retries included."""
        with self._lock:
            return self._attempts[connection_id]

    def _answer(self, connection_id: str) -> int:
        with self._lock:
            if connection_id in self.deleted:
                return 410
            n = self._attempts[connection_id]
            self._attempts[connection_id] += 1
        script = self.scripts.get(connection_id)
        if not script:
            return 200
        return script[min(n, len(script) - 1)]

    def __enter__(self) -> RecordingManagementApi:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _connection_id(self) -> str | None:
                prefix = f"/{api.stage}/@connections/"
                if not self.path.startswith(prefix):
                    return None
                return urllib.parse.unquote(self.path[len(prefix) :])

            def _reply(self, status: int, body: bytes = b"") -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status >= 400 and status != 404:
                    self.send_header("x-amzn-ErrorType", error_for(status).error_type)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                connection_id = self._connection_id()
                if connection_id is None:
                    self._reply(404, b'{"message":"Not Found"}')
                    return
                if api.latency_s:
                    time.sleep(api.latency_s)
                status = api._answer(connection_id)
                with api._lock:
                    api.posts.append(RecordedPost(connection_id, data, status, time.time()))
                if status == 200:
                    self._reply(200)
                else:
                    body = json.dumps({"message": error_for(status).message}).encode()
                    self._reply(status, body)

            def do_GET(self) -> None:
                self._reply(200, b'{"connectedAt":"2026-01-01T00:00:00Z"}')

            def do_DELETE(self) -> None:
                connection_id = self._connection_id()
                if connection_id is None:
                    self._reply(404, b'{"message":"Not Found"}')
                    return
                with api._lock:
                    gone = connection_id in api.deleted
                    if not gone:
                        api.deleted.append(connection_id)
                if gone:
                    self._reply(410, json.dumps({"message": error_for(410).message}).encode())
                else:
                    self._reply(204)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
