"""The local stack benchmark's reference: a bare relay, and the client cycle every server is
driven with.

`serve` runs the least a local relay can be: one asyncio process keeping guid -> subscribers
(and each result until its ack) in dicts; no store, no handlers, no Lambda-shaped events, no
guid validation, TTL or persistence. It speaks the frames of docs/protocol.md (the ack names its
acker as wsrelay's does; a subscribe after the publish gets the result) and its WebSocket
settings are the local gateway's: python-websockets, no compression, API Gateway's message and
frame limits, no keepalive pings from the server.

`bench` opens PAIRS subscriber/publisher connection pairs, each repeating the real clients'
cycle for SECONDS: subscribe, publish a JSON result, receive it, ack, the publisher receives the
ack, unsubscribe. It prints cycles/s and latency percentiles (publish -> ack received).

    python benchmarks/reference_relay.py serve [--host 127.0.0.1] [--port 0]
    python benchmarks/reference_relay.py bench URL [--pairs 16] [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NoReturn

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, broadcast, serve
from websockets.exceptions import ConnectionClosedError, WebSocketException

from wsrelay.local.settings import FRAME_LIMIT, MESSAGE_LIMIT

# What the gateway's sans-I/O ServerProtocol does: no permessage-deflate, the same size limits,
# no pings of its own (API Gateway answers pings, it sends none).
WEBSOCKET_SETTINGS: dict[str, Any] = {
    "compression": None,
    "max_size": (MESSAGE_LIMIT, FRAME_LIMIT),
    "ping_interval": None,
}
CYCLE_TIMEOUT_S = 10.0
# A small compile result, the size of a typical light message of the real workers.
RESULT_BODY = {"code": 0, "asm": [{"text": "x" * 200}]}


class Relay:
    """The relay's whole state: who listens to a guid, who published it, its unacked result."""

    def __init__(self) -> None:
        self.subscribers: dict[str, set[ServerConnection]] = {}
        self.publishers: dict[str, set[ServerConnection]] = {}
        self.results: dict[str, str] = {}

    async def handle(self, ws: ServerConnection) -> None:
        """One connection: answer its frames until it closes, then forget it."""
        joined: set[str] = set()
        try:
            async for frame in ws:
                reply = self.receive(ws, frame, joined)
                if reply is not None:
                    await ws.send(reply)
        except ConnectionClosedError:
            pass  # an oversized message or a dropped client ends its connection, not the relay
        finally:
            for guid in joined:
                self._leave(self.subscribers, guid, ws)
            for guid in [guid for guid, members in self.publishers.items() if ws in members]:
                self._leave(self.publishers, guid, ws)

    def receive(self, ws: ServerConnection, frame: str | bytes, joined: set[str]) -> str | None:
        """Act on one frame; returns the reply to its sender, if any."""
        if isinstance(frame, bytes):
            try:
                frame = frame.decode()
            except UnicodeDecodeError:
                return "error: frame is not UTF-8 text"
        if frame.startswith("{"):
            return self.publish(ws, frame)
        if frame.startswith("subscribe: "):
            guid = frame[11:]
            self.subscribers.setdefault(guid, set()).add(ws)
            joined.add(guid)
            return self.results.get(guid)
        if frame.startswith("unsubscribe: "):
            guid = frame[13:]
            self._leave(self.subscribers, guid, ws)
            joined.discard(guid)
            return None
        if frame.startswith("ack: "):
            guid = frame[5:]
            self.results.pop(guid, None)
            ack = {"type": "ack", "guid": guid, "acknowledgedBy": ws.id.hex[:16]}
            broadcast(
                self.publishers.pop(guid, ()), json.dumps(ack, separators=(",", ":"), ensure_ascii=False)
            )
            return None
        return "pong" if frame == "ping" else "unknown text message"

    def publish(self, ws: ServerConnection, frame: str) -> str | None:
        try:
            document = json.loads(frame)
        except ValueError:
            return "error: frame starts with a brace but is not valid JSON"
        guid = document.get("guid") if isinstance(document, dict) else None
        if not isinstance(guid, str):
            return "unknown object message"
        self.results[guid] = frame
        self.publishers.setdefault(guid, set()).add(ws)
        broadcast(self.subscribers.get(guid, ()), frame)  # relayed verbatim
        return None

    @staticmethod
    def _leave(index: dict[str, set[ServerConnection]], guid: str, ws: ServerConnection) -> None:
        members = index.get(guid)
        if members is not None:
            members.discard(ws)
            if not members:
                del index[guid]


async def run_server(host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT; the first line on stdout says where."""
    relay = Relay()
    stop = asyncio.get_running_loop().create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set_result, None)
    async with serve(relay.handle, host, port, **WEBSOCKET_SETTINGS) as server:
        bound = server.sockets[0].getsockname()
        print(f"reference relay: listening ws://{bound[0]}:{bound[1]}", flush=True)
        await stop


class CycleError(RuntimeError):
    """The server answered the cycle with something else than the protocol says."""


@dataclass(frozen=True)
class BenchResult:
    """One run of the client cycle: completed cycles and their latency percentiles."""

    pairs: int
    seconds: float
    cycles: int
    p50_ms: float
    p99_ms: float

    @property
    def cycles_per_s(self) -> float:
        return self.cycles / self.seconds

    def line(self) -> str:
        return (
            f"pairs={self.pairs} cycles={self.cycles} cycles/s={self.cycles_per_s:.0f} "
            f"p50={self.p50_ms:.2f}ms p99={self.p99_ms:.2f}ms"
        )


async def one_cycle(subscriber: ClientConnection, publisher: ClientConnection) -> float:
    """Subscribe, publish, receive, ack, ack received, unsubscribe: seconds from publish to ack."""
    guid = str(uuid.uuid4())
    result = json.dumps({"guid": guid, **RESULT_BODY})
    await subscriber.send(f"subscribe: {guid}")
    started = time.perf_counter()
    await publisher.send(result)
    received = await subscriber.recv()
    if received != result:
        raise CycleError(f"the subscriber of {guid} received {str(received)[:120]!r}, not the result")
    await subscriber.send(f"ack: {guid}")
    reply = await publisher.recv()
    elapsed = time.perf_counter() - started
    ack = json.loads(reply) if isinstance(reply, str) and reply.startswith("{") else None
    if not isinstance(ack, dict) or ack.get("type") != "ack" or ack.get("guid") != guid:
        raise CycleError(f"the publisher of {guid} received {str(reply)[:120]!r}, not its ack")
    await subscriber.send(f"unsubscribe: {guid}")
    return elapsed


async def drive(url: str, pairs: int, seconds: float) -> BenchResult:
    """Run `pairs` connection pairs through the cycle for `seconds` against the relay at `url`."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def pair() -> None:
        async with (
            connect(url, **WEBSOCKET_SETTINGS) as subscriber,
            connect(url, **WEBSOCKET_SETTINGS) as publisher,
        ):
            while time.perf_counter() < deadline:
                async with asyncio.timeout(CYCLE_TIMEOUT_S):
                    latencies.append(await one_cycle(subscriber, publisher))

    await asyncio.gather(*(pair() for _ in range(pairs)))
    if len(latencies) < 2:
        raise CycleError(f"only {len(latencies)} cycle(s) completed in {seconds:g} s")
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return BenchResult(pairs, seconds, len(latencies), cuts[49] * 1000, cuts[98] * 1000)


def positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    """An argparse type: a number above zero (argparse reports anything else, exit status 2)."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be above 0: {text!r}")
        return value

    return parse


def fail(message: str, status: int) -> NoReturn:
    print(message, file=sys.stderr)
    raise SystemExit(status)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serving = commands.add_parser("serve", help="run the reference relay")
    serving.add_argument("--host", default="127.0.0.1")
    serving.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    bench = commands.add_parser("bench", help="drive a relay with the client cycle")
    bench.add_argument("url", help="ws://HOST:PORT[/STAGE] of the relay")
    bench.add_argument("--pairs", type=positive(int), default=16)
    bench.add_argument("--seconds", type=positive(float), default=5.0)
    args = parser.parse_args(argv)
    if args.command == "serve":
        try:
            asyncio.run(run_server(args.host, args.port))
        except OSError as error:  # as `wsrelay serve`: the port is a bad flag, exit status 2
            fail(f"reference relay: cannot listen on {args.host}:{args.port}: {error.strerror or error}", 2)
        return
    try:
        print(asyncio.run(drive(args.url, args.pairs, args.seconds)).line())
    except (OSError, TimeoutError, WebSocketException, CycleError) as error:
        fail(f"reference relay bench: {args.url}: {type(error).__name__}: {error}", 1)


if __name__ == "__main__":
    main()
