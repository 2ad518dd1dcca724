"""A raw WebSocket connection for the smoke test: exact frames out, frames in awaited by predicate.

The smoke test checks the relay's wire behaviour byte for byte, so it speaks the protocol
directly instead of through `wsrelay.client` (which parses, acks and reconnects on its own).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidProxy, ProxyError

from wsrelay.client.link import OPEN_ERRORS, describe


class StepFailed(Exception):
    """A smoke step did not see what it expected; the message says what it saw instead."""


class NoFrame(StepFailed):
    """No matching frame arrived in time (the connection itself is fine)."""


class Unreachable(StepFailed):
    """Nothing answered the connection attempt: refused, no route, no such host, or silence."""


class EndpointUnreachable(Exception):
    """The endpoint cannot be reached at all (its first connection is `Unreachable`): the smoke
    test cannot run, which is not a failed step (exit 3, not 1)."""


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


class Probe:
    """One connection. A frame that arrives while another is awaited waits in `inbox` for the
    `expect` that wants it (a stored ack may overtake a ``pong``); every frame that did not match
    when it arrived is kept in `unmatched` for the failure detail."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.unmatched: list[str] = []
        self.inbox: list[str] = []

    @classmethod
    async def open(cls, url: str, headers: Mapping[str, str], timeout: float) -> Probe:
        """Connect or raise `StepFailed` naming why: `Unreachable` when the endpoint did not answer
        (refused, no route, no such host, no answer within `timeout`, a proxy that cannot reach
        it), else a rejected upgrade (an HTTP status from the endpoint itself)."""
        try:
            ws = await connect(
                url,
                additional_headers=dict(headers),
                open_timeout=timeout,
                compression=None,
                ping_interval=None,
                max_size=None,
                close_timeout=timeout,
            )
        except TimeoutError as error:
            raise Unreachable(f"cannot connect: no answer within {timeout:g} s") from error
        except (OSError, ProxyError, InvalidProxy) as error:
            raise Unreachable(f"cannot connect: {describe(error)}") from error
        except OPEN_ERRORS as error:  # the endpoint answered, with something else than an upgrade
            raise StepFailed(f"cannot connect: {describe(error)}") from error
        return cls(ws)

    async def send(self, text: str) -> None:
        """Send one text frame."""
        try:
            await self.ws.send(text)
        except ConnectionClosed as closed:
            raise StepFailed(f"{describe(closed)} while sending") from closed

    async def expect(self, matches: Callable[[str], bool], timeout: float, what: str) -> str:
        """The first frame that `matches` (already received, or within `timeout` seconds)."""
        for i, text in enumerate(self.inbox):
            if matches(text):
                return self.inbox.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                async with asyncio.timeout(max(remaining, 0.0)):
                    message = await self.ws.recv()
            except TimeoutError:
                seen = f"; got {_short(self.unmatched[-1])!r}" if self.unmatched else "; got nothing"
                raise NoFrame(f"no {what} within {timeout:g} s{seen}") from None
            except ConnectionClosed as closed:
                raise StepFailed(f"{describe(closed)} while waiting for {what}") from closed
            text = message if isinstance(message, str) else message.decode("utf-8", "replace")
            if matches(text):
                return text
            self.unmatched.append(text)
            self.inbox.append(text)

    async def absent(self, matches: Callable[[str], bool], window: float, what: str) -> None:
        """Fail if a frame that `matches` arrives within `window` seconds."""
        try:
            frame = await self.expect(matches, window, what)
        except NoFrame:
            return
        raise StepFailed(f"{what} arrived: {_short(frame)!r}")

    async def close(self) -> None:
        """Close with 1000 and wait for the close handshake."""
        await self.ws.close()

    def abort(self) -> None:
        """Drop the connection without a close handshake (cleanup after a failure)."""
        transport = self.ws.transport
        if transport is not None:
            transport.abort()
