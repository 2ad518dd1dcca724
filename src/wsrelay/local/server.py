"""The local API Gateway WebSocket emulator's server: one port for WebSocket clients and the
Management API, its lifecycle and what it counts.

- ``ws://HOST:PORT/STAGE``: WebSocket connections (`wsrelay.local.websocket`). Frames over
  32 KB or messages over 128 KB close with 1009; 10 min idle and 2 h max duration close with
  1001 (all configurable).
- ``http://HOST:PORT/STAGE/@connections/{id}`` and ``GET /_wsrelay/stats``
  (`wsrelay.local.http_api`); with ``--dashboard`` the page at ``/_wsrelay/``
  (`wsrelay.local.dashboard`).

The server is built whole: its listening socket, connections, runtime and console are made
before it and handed to it, so it serves from the first accepted connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from wsrelay.local.console import Console
from wsrelay.local.events import Api
from wsrelay.local.http_api import ManagementApi
from wsrelay.local.invoker import Invoker
from wsrelay.local.open_connections import Connections
from wsrelay.local.runtimes.base import Runtime
from wsrelay.local.settings import GatewaySettings
from wsrelay.local.websocket import WebSocketSide

if TYPE_CHECKING:
    from wsrelay.local.dashboard.routes import Dashboard

HEAD_LIMIT = 16 * 1024
HEAD_TIMEOUT_S = 30.0


def listen(host: str, port: int) -> socket.socket:
    """The listening socket (port 0 picks a free one); OSError when the address is taken."""
    return socket.create_server((host, port), reuse_port=False)


class Gateway:
    """The emulator on a listening socket. `start` serves; `stop` closes every connection
    (``$disconnect`` each) and waits for in-flight messages."""

    def __init__(
        self,
        settings: GatewaySettings,
        sock: socket.socket,
        connections: Connections,
        runtime: Runtime,
        console: Console | None,
        dashboard: Dashboard | None = None,
    ) -> None:
        self.settings = settings
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        self.connections = connections
        self.stats = connections.stats
        self.runtime = runtime
        self.console = console
        self.api = Api(stage=settings.stage, domain_name=f"{settings.host}:{self.port}")
        self.invoker = Invoker(settings, runtime, self.stats, console)
        self.dashboard = dashboard
        if dashboard is not None:
            self.invoker.observer = dashboard.observer
        self.websocket = WebSocketSide(settings, self.api, connections, self.invoker, self.stats, self._track)
        self.management = ManagementApi(
            settings.stage, settings.message_limit, connections, self.snapshot, dashboard
        )
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http_tasks: set[asyncio.Task[Any]] = set()
        self._console_task: asyncio.Task[None] | None = None

    @property
    def websocket_url(self) -> str:
        return f"ws://{self.settings.host}:{self.port}/{self.settings.stage}"

    @property
    def management_endpoint(self) -> str:
        return f"http://{self.settings.host}:{self.port}/{self.settings.stage}"

    @property
    def stats_url(self) -> str:
        return f"http://{self.settings.host}:{self.port}/_wsrelay/stats"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, sock=self.sock, limit=HEAD_LIMIT)
        if self.console is not None:
            self._console_task = asyncio.create_task(self.console.run())

    async def stop(self) -> None:
        """Stop accepting, close every connection with 1001 and run their $disconnect."""
        if self._server is not None:
            self._server.close()
        self.connections.close_all()
        if self.dashboard is not None:
            self.dashboard.close()  # its streams end; their HTTP tasks finish below
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

    def _track(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError):
            writer.close()
            return
        try:
            if b"upgrade: websocket" in head.lower():
                await self.websocket.serve(head, reader, writer)
            else:
                if task is not None:  # keep-alive connections `stop` must cancel
                    self._http_tasks.add(task)
                    task.add_done_callback(self._http_tasks.discard)
                await self.management.serve(head, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # the peer went away, or `stop` closed a keep-alive connection
        finally:
            writer.close()

    def snapshot(self) -> dict[str, Any]:
        """The ``/_wsrelay/stats`` document."""
        snapshot = self.stats.snapshot(len(self.connections), self.settings.runtime)
        snapshot.update(self.connections.faults.describe())  # started_at, fault_window_s, ...
        functions = self.runtime.describe()
        if functions is not None:
            snapshot["functions"] = functions
        if self.dashboard is not None:
            self.dashboard.add_to_stats(snapshot)
        return snapshot
