"""One long-lived WebSocket connection to the relay that comes back after it is lost.

`Link` is what `Subscriber` and `Publisher` share: the first connection fails fast
(`ConnectError`), a lost one is reopened with `Backoff` (full jitter), protocol-level pings
detect a dead peer, and the text ``ping`` keeps an idle connection alive. `on_lost` tells the
client at once that the connection that would carry its answers is gone.

It uses websockets' documented asyncio API only (``connect``, ``send``, async iteration,
``close``, keepalive pings through ``ping_interval``, `ConnectionClosed`), so a websockets
upgrade cannot change what it relies on. A frame counts as sent once ``await send(...)`` has
returned without error and not before; a failed send is reported (`send` returns False) and its
caller sends again on the next connection. On Linux the frames sent during one pass of the event
loop share TCP segments (`CorkedWrites`), as a busy client needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Self

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, WebSocketException

from wsrelay import protocol
from wsrelay.client.errors import ClientClosed, ConnectError, RelayClientError
from wsrelay.client.options import ConnectionConfig

OPEN_ERRORS = (OSError, TimeoutError, WebSocketException)
_log = logging.getLogger(__name__)
_TCP_CORK: int | None = getattr(socket, "TCP_CORK", None)  # Linux only


class CorkedWrites:
    """The frames sent during one pass of the event loop leave together at the end of the pass
    (Linux ``TCP_CORK``, tcp(7)), on a socket `Link` opened and handed to websockets
    (``connect(sock=...)``, which websockets documents for a socket one customizes).

    websockets writes each frame at once: a segment and a wake-up of the peer per frame, which is
    most of a busy client's time (many jobs; a router's ``ack`` + ``unsubscribe``). Corked, a
    write only fills the socket's buffer; the segment leaves when the cork is pulled.
    """

    def __init__(self, sock: socket.socket, option: int) -> None:
        self._sock = sock
        self._option = option
        self._held = False

    def hold(self) -> None:
        """Cork the socket until the end of this pass of the event loop."""
        if self._held:
            return
        try:
            self._sock.setsockopt(socket.IPPROTO_TCP, self._option, 1)
        except OSError:  # closed: the send that follows reports it
            return
        self._held = True
        asyncio.get_running_loop().call_soon(self._release)

    def _release(self) -> None:
        self._held = False
        with contextlib.suppress(OSError):  # closed meanwhile: nothing left to push
            self._sock.setsockopt(socket.IPPROTO_TCP, self._option, 0)


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
        self._cork: CorkedWrites | None = None
        self._connected = asyncio.Event()
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
            ws, cork = await self._open()
        except OPEN_ERRORS as error:
            raise ConnectError(f"cannot connect to {self.config.url}: {describe(error)}") from error
        self._attach(ws, cork)
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
        """Send one frame on the current connection; False when there is none or it failed."""
        return await self.send_all((text,))

    async def send_all(self, texts: Sequence[str]) -> bool:
        """Send frames in order on the current connection. True only when websockets' ``send``
        returned for every one of them; False when there is no connection or a send failed (the
        frames after the failed one are not attempted; the caller sends again after the
        reconnect)."""
        ws = self._ws
        if ws is None:
            return False
        if self._cork is not None:
            self._cork.hold()
        try:
            # `send` suspends only while the write buffer is over its limit, so the frames of one
            # call normally leave back to back, without a pass of the event loop between them.
            for text in texts:
                await ws.send(text)
        except ConnectionClosed:
            if ws is self._ws:  # not a connection already replaced while this send waited
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

    # -- internals ------------------------------------------------------------------------------

    async def _open(self) -> tuple[ClientConnection, CorkedWrites | None]:
        c = self.config
        sock: socket.socket | None = None
        try:
            async with asyncio.timeout(c.open_timeout_s):  # the TCP connect and the upgrade
                sock = await _own_socket(c.url)
                ws = await connect(
                    c.connect_url,
                    sock=sock,
                    additional_headers=c.upgrade_headers(),
                    open_timeout=c.open_timeout_s,
                    ping_interval=c.ping_interval_s,
                    ping_timeout=c.ping_timeout_s,
                    compression=None,  # API Gateway negotiates no extensions
                    max_size=c.max_frame_bytes,
                    close_timeout=2,
                )
        except BaseException as error:
            if sock is not None:
                sock.close()
            if isinstance(error, ValueError) and isinstance(error.__cause__, WebSocketException):
                raise error.__cause__ from None  # a redirect: not followed on a socket of our own
            if isinstance(error, TimeoutError):  # ours or websockets' own, whichever came first
                raise TimeoutError(f"no connection within {c.open_timeout_s:g} s") from None
            raise
        cork = CorkedWrites(sock, _TCP_CORK) if sock is not None and _TCP_CORK is not None else None
        return ws, cork

    def _attach(self, ws: ClientConnection, cork: CorkedWrites | None) -> None:
        self._ws = ws
        self._cork = cork
        self.generation += 1
        self._last_sent = time.monotonic()

    def _detach(self) -> None:
        self._ws = None
        self._cork = None
        self._connected.clear()

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
                ws, cork = await self._open()
            except OPEN_ERRORS as error:
                failures += 1
                self.last_error = describe(error)
                if self._give_up and backoff.gives_up_after(failures):
                    self._fail(
                        ConnectError(f"gave up reconnecting after {failures} attempts: {self.last_error}")
                    )
                    return False
                continue
            self._attach(ws, cork)
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


async def _own_socket(url: str) -> socket.socket | None:
    """A TCP socket connected to `url`'s host, for `CorkedWrites`; None where there is no
    ``TCP_CORK`` or the environment names a proxy (websockets then connects, through it)."""
    if _TCP_CORK is None or urllib.request.getproxies():
        return None
    parts = urllib.parse.urlsplit(url)
    loop = asyncio.get_running_loop()
    port = parts.port or (443 if parts.scheme == "wss" else 80)
    failure = OSError(f"cannot resolve {parts.hostname}")
    for family, kind, proto, _, address in await loop.getaddrinfo(
        parts.hostname, port, type=socket.SOCK_STREAM
    ):
        sock = socket.socket(family, kind, proto)
        sock.setblocking(False)
        try:
            await loop.sock_connect(sock, address)
            return sock
        except BaseException as error:
            sock.close()
            if not isinstance(error, OSError):
                raise
            failure = error  # the next address, as socket.create_connection does
    raise failure
