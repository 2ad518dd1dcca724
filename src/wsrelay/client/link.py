"""One long-lived WebSocket connection to the relay that comes back after it is lost.

`Link` is what `Subscriber` and `Publisher` share: the first connection fails fast
(`ConnectError`), a lost one is reopened with `Backoff` (full jitter), protocol-level pings
detect a dead peer, and the text ``ping`` keeps an idle connection alive. Each connection is
one *generation*; `lost(generation)` is a future that resolves when that connection is gone, so
a caller waiting for an answer can tell "no answer yet" from "the connection that would carry it
is dead".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Self

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from wsrelay import protocol
from wsrelay.client.errors import ClientClosed, ConnectError, RelayClientError
from wsrelay.client.options import ConnectionConfig

OPEN_ERRORS = (OSError, TimeoutError, WebSocketException)
_log = logging.getLogger(__name__)


class _Connection(ClientConnection):
    """websockets' connection, writing every frame produced during one pass of the event loop in
    a single socket write, at the end of that pass.

    An idle connection pays one ``call_soon`` per send and nothing else; a busy one (many jobs,
    a router's ``ack`` + ``unsubscribe``) sends one TCP segment instead of one per frame. On
    loopback and in a VM the per-write kernel work is most of what a small frame costs.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._outgoing: list[bytes] = []

    def send_data(self) -> None:
        chunks = self.protocol.data_to_send()
        if all(chunks):
            if not self._outgoing:
                self.loop.call_soon(self._flush)
            self._outgoing.extend(chunks)
            return
        self._flush()  # the end of the stream: what is queued goes first
        for data in chunks:  # as the base class: an empty chunk means "end of stream"
            if data:
                self.transport.write(data)
            elif self.transport.can_write_eof():
                with contextlib.suppress(Exception):
                    self.transport.write_eof()
            else:
                self.transport.close()

    def _flush(self) -> None:
        if not self._outgoing:
            return
        data = b"".join(self._outgoing)
        self._outgoing.clear()
        if not self.transport.is_closing():
            self.transport.write(data)


class Link:
    """A reconnecting connection. `on_frame` gets every text frame, in order; `on_connected`
    runs after each *re*connect, before anything else is sent on the new connection."""

    def __init__(
        self,
        config: ConnectionConfig,
        on_frame: Callable[[str], Awaitable[None]],
        on_connected: Callable[[], Awaitable[None]] | None = None,
        on_lost: Callable[[], None] | None = None,
        give_up: bool = True,
    ) -> None:
        self.config = config
        self._on_frame = on_frame
        self._on_connected = on_connected
        self._on_lost = on_lost
        self._give_up = give_up
        self._ws: ClientConnection | None = None
        self._connected = asyncio.Event()
        self._lost: asyncio.Future[None] | None = None
        self._failure: RelayClientError | None = None
        self._failure_waiter: asyncio.Future[None] | None = None
        self._closing = False
        self._tasks: list[asyncio.Task[None]] = []
        self.generation = 0
        self.reconnects = 0
        self.last_error = ""
        self._last_sent = time.monotonic()

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._ws is not None

    async def start(self) -> None:
        """Open the first connection; raise `ConnectError` at once if it fails."""
        try:
            ws = await self._open()
        except OPEN_ERRORS as error:
            raise ConnectError(f"cannot connect to {self.config.url}: {describe(error)}") from error
        self._attach(ws)
        self._tasks = [asyncio.create_task(self._run()), asyncio.create_task(self._keep_alive())]

    async def close(self) -> None:
        """Close the connection and stop reconnecting; whoever waits for it learns at once."""
        self._closing = True
        self._connected.clear()
        self._fail(ClientClosed("the client was closed"))
        if self._on_lost is not None:
            self._on_lost()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(*OPEN_ERRORS):
                await ws.close()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def send(self, text: str) -> bool:
        """Send one frame on the current connection; False when there is none (or it just died)."""
        ws = self._ws
        if ws is None:
            return False
        try:
            await ws.send(text)
        except ConnectionClosed:
            self._connected.clear()
            return False
        self._last_sent = time.monotonic()
        return True

    async def send_all(self, texts: list[str]) -> bool:
        """Send several frames in one write, in order; False when there is no connection."""
        ws = self._ws
        if ws is None:
            return False
        try:
            async with ws.send_context():
                for text in texts:
                    ws.protocol.send_text(text.encode())
        except ConnectionClosed:
            self._connected.clear()
            return False
        self._last_sent = time.monotonic()
        return True

    async def wait_connected(self) -> int:
        """Wait for an open connection and return its generation; raise why the link gave up."""
        while not self._connected.is_set():
            if self._failure is not None:
                raise self._failure
            waiter: asyncio.Future[Any] = asyncio.ensure_future(self._connected.wait())
            either: list[asyncio.Future[Any]] = [waiter, self._failure_future()]
            try:
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                waiter.cancel()
        return self.generation

    def lost(self, generation: int) -> asyncio.Future[None]:
        """A future that is done once connection `generation` is gone."""
        if generation != self.generation or self._lost is None:
            done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            done.set_result(None)
            return done
        return self._lost

    # -- internals ------------------------------------------------------------------------------

    async def _open(self) -> ClientConnection:
        c = self.config
        return await connect(
            c.connect_url,
            additional_headers=c.upgrade_headers(),  # SigV4-signed with credentials
            open_timeout=c.open_timeout_s,
            ping_interval=c.ping_interval_s,
            ping_timeout=c.ping_timeout_s,
            compression=None,  # API Gateway negotiates no extensions
            max_size=c.max_frame_bytes,
            close_timeout=2,
            create_connection=_Connection,
        )

    def _attach(self, ws: ClientConnection) -> None:
        self._ws = ws
        self.generation += 1
        self._lost = asyncio.get_running_loop().create_future()
        self._last_sent = time.monotonic()

    def _detach(self) -> None:
        self._ws = None
        self._connected.clear()
        if self._lost is not None and not self._lost.done():
            self._lost.set_result(None)

    def _failure_future(self) -> asyncio.Future[None]:
        if self._failure_waiter is None:
            self._failure_waiter = asyncio.get_running_loop().create_future()
        return self._failure_waiter

    def _fail(self, failure: RelayClientError) -> None:
        if self._failure is None:
            self._failure = failure
        waiter = self._failure_future()
        if not waiter.done():
            waiter.set_result(None)

    async def _run(self) -> None:
        self._connected.set()
        while not self._closing:
            ws = self._ws
            assert ws is not None
            try:
                async for message in ws:
                    text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                    try:
                        await self._on_frame(text)
                    except Exception:  # a bug in a handler must not stop the reading
                        _log.exception("wsrelay.client: handling a frame failed")
            except ConnectionClosed as closed:
                self.last_error = describe(closed)
            else:
                self.last_error = "connection closed"
            self._detach()
            if self._closing:
                return
            if self._on_lost is not None:
                self._on_lost()
            if not await self._reconnect():
                return

    async def _reconnect(self) -> bool:
        backoff = self.config.backoff
        failures = 0
        while not self._closing:
            await asyncio.sleep(backoff.delay(failures))
            try:
                ws = await self._open()
            except OPEN_ERRORS as error:
                failures += 1
                self.last_error = describe(error)
                if self._give_up and backoff.gives_up_after(failures):
                    self._fail(
                        ConnectError(f"gave up reconnecting after {failures} attempts: {self.last_error}")
                    )
                    return False
                continue
            self._attach(ws)
            self.reconnects += 1
            if self._on_connected is not None:
                await self._on_connected()
            self._connected.set()
            return True
        return False

    async def _keep_alive(self) -> None:
        """Send the text ``ping`` whenever nothing was sent for `idle_ping_s`."""
        idle = self.config.idle_ping_s
        while not self._closing:
            quiet = time.monotonic() - self._last_sent
            if quiet < idle:
                await asyncio.sleep(idle - quiet)
                continue
            if not await self.send(protocol.PING):
                await asyncio.sleep(min(idle, 1.0))  # disconnected: the reconnect resets the clock


class LinkedClient:
    """What `Subscriber` and `Publisher` share: one `Link`, its lifecycle and its counters."""

    _link: Link

    @property
    def reconnects(self) -> int:
        """Connections reopened after a loss."""
        return self._link.reconnects

    @property
    def connected(self) -> bool:
        """True while a connection is open."""
        return self._link.connected

    async def start(self) -> Self:
        """Connect; raise `ConnectError` at once if the first connection fails."""
        await self._link.start()
        return self

    async def close(self) -> None:
        """Close the connection and stop reconnecting."""
        await self._link.close()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def describe(error: BaseException) -> str:
    """One line for a connection failure."""
    if isinstance(error, ConnectionClosed):
        frame = error.rcvd or error.sent
        if frame is None:
            return "connection lost without a close frame"
        return f"connection closed with {frame.code}" + (f" ({frame.reason})" if frame.reason else "")
    text = str(error) or type(error).__name__
    return text.splitlines()[0] if text else type(error).__name__
