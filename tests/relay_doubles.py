"""A scripted WebSocket server on 127.0.0.1 for the client and smoke tests: it records every
upgrade's headers and every frame, and answers through a handler the test supplies, so a test can
play a relay that misbehaves (re-serializes results, never acks, stays silent)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

from websockets.asyncio.server import ServerConnection, serve
from websockets.http11 import Request, Response

Reply = Callable[[str], list[str]]
DROP = "<drop the connection without a close frame>"  # a reply that aborts the connection


def echo_relay(frame: str) -> list[str]:
    """A relay that answers ``ping`` and re-serializes every result (the bytes change)."""
    if frame == "ping":
        return ["pong"]
    if frame.startswith("{"):
        return [json.dumps(json.loads(frame), indent=1)]
    return []


@dataclass
class Scripted:
    url: str
    frames: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


@contextlib.asynccontextmanager
async def scripted_server(reply: Reply = lambda _: [], refuse: int | None = None) -> AsyncIterator[Scripted]:
    """Serve on a free port; every frame is recorded, `reply(frame)` goes back on that connection
    (`DROP` in the reply aborts the connection there, as API Gateway's 410 does). With `refuse`,
    every upgrade is answered with that HTTP status instead (a `$connect` that says no)."""
    state = Scripted("")

    def process_request(ws: ServerConnection, request: Request) -> Response | None:
        state.headers.append(dict(request.headers.raw_items()))
        return None if refuse is None else ws.respond(refuse, "Forbidden\n")

    async def handler(ws: ServerConnection) -> None:
        async for message in ws:
            text = message if isinstance(message, str) else message.decode()
            state.frames.append(text)
            for answer in reply(text):
                if answer == DROP:
                    ws.transport.abort()
                    return
                await ws.send(answer)

    async with serve(handler, "127.0.0.1", 0, compression=None, process_request=process_request) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        state.url = f"ws://127.0.0.1:{port}/local"
        yield state
        server.close()
        await asyncio.sleep(0)
