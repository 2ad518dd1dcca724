"""`Link`'s send rule, on connections that fail a write on purpose: a frame counts as sent only
once websockets' ``send`` returned; a failed send is reported and the frames are sent again on
the next connection (the publisher's result, the subscriber's ack and unsubscribe). And the
corked socket: the frames of one pass of the event loop are held until its end, then pushed.

websockets' ``connect`` is replaced by one handing out scripted connections, which offer what
`Link` uses of websockets' documented connection API: ``send``, async iteration and ``close``.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable

import pytest
from client_support import FAST, run
from waiting import wait_until_async
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from wsrelay.client import ConnectError, Publisher, PublisherConfig, Subscriber, SubscriberConfig
from wsrelay.client import link as link_module
from wsrelay.client.link import CorkedWrites, Link
from wsrelay.client.options import ConnectionConfig

URL = "ws://relay.invalid/local"


class ScriptedConnection:
    """A connection whose ``send`` raises `ConnectionClosed` on the frames `fails` picks (and on
    every frame after that, as a closed connection does); `answer` gives the frames the relay
    sends back to a frame that was sent."""

    def __init__(
        self,
        fails: Callable[[str], bool] = lambda _: False,
        answer: Callable[[str], list[str]] = lambda _: [],
    ) -> None:
        self.attempted: list[str] = []
        self.sent: list[str] = []
        self._fails = fails
        self._answer = answer
        self._closed = False
        self._inbox: asyncio.Queue[str | None] = asyncio.Queue()

    def deliver(self, frame: str) -> None:
        self._inbox.put_nowait(frame)

    async def send(self, message: str) -> None:
        self.attempted.append(message)
        if self._closed or self._fails(message):
            self._lose()
            raise ConnectionClosed(None, None)
        self.sent.append(message)
        for frame in self._answer(message):
            self.deliver(frame)

    def __aiter__(self) -> AsyncIterator[str]:
        return self._frames()

    async def _frames(self) -> AsyncIterator[str]:
        while (frame := await self._inbox.get()) is not None:
            yield frame
        raise ConnectionClosed(None, None)

    async def close(self) -> None:
        self._lose()

    def _lose(self) -> None:
        if not self._closed:
            self._closed = True
            self._inbox.put_nowait(None)


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[ScriptedConnection]:
    """The connections the next ``connect`` calls return, in order (append before connecting)."""
    queue: list[ScriptedConnection] = []

    async def connect(url: str, **options: object) -> ScriptedConnection:
        if not queue:
            raise OSError("no more scripted connections")
        return queue.pop(0)

    async def no_socket(url: str) -> None:
        return None  # websockets' (replaced) connect opens the connection

    monkeypatch.setattr(link_module, "connect", connect)
    monkeypatch.setattr(link_module, "_own_socket", no_socket)
    return queue


async def _ignore(frame: str) -> None:
    return None


def test_a_failed_send_is_reported_and_the_frames_after_it_are_not_attempted(connections):
    connection = ScriptedConnection(fails=lambda frame: frame == "b")
    connections.append(connection)

    async def scenario() -> tuple[bool, bool, bool]:
        link = Link(ConnectionConfig(URL, backoff=FAST), _ignore)
        await link.start()
        try:
            first = await link.send_all(["a"])
            failed = await link.send_all(["b", "c"])
            after = await link.send("d")  # the connection is closed: no frame leaves either
            return first, failed, after
        finally:
            await link.close()

    assert run(scenario()) == (True, False, False)
    assert connection.sent == ["a"]
    assert "c" not in connection.attempted


def test_a_publish_whose_send_fails_is_sent_again_on_the_next_connection(connections):
    def ack(frame: str) -> list[str]:
        if frame.startswith("{"):
            return [json.dumps({"type": "ack", "guid": json.loads(frame)["guid"], "acknowledgedBy": "r1"})]
        return []

    broken = ScriptedConnection(fails=lambda frame: frame.startswith("{"))
    healthy = ScriptedConnection(answer=ack)
    connections.extend([broken, healthy])

    async def scenario():
        # An ack timeout far longer than the test: only the failed send can cause the resend.
        async with Publisher(PublisherConfig(URL, backoff=FAST, ack_timeout_s=60)) as pub:
            return await pub.publish("g1", {"code": 0})

    ack_ = run(scenario())
    assert ack_.acknowledged_by == "r1"
    assert broken.sent == [] and broken.attempted == ['{"code":0,"guid":"g1"}']
    assert healthy.sent and set(healthy.sent) == {'{"code":0,"guid":"g1"}'}
    assert ack_.sends == len(healthy.sent)  # only sends that completed are counted


def test_an_ack_whose_send_fails_is_sent_again_after_the_reconnect(connections):
    broken = ScriptedConnection(fails=lambda frame: frame == "ack: g1")
    healthy = ScriptedConnection()
    connections.extend([broken, healthy])

    async def scenario():
        async with Subscriber(SubscriberConfig(URL, backoff=FAST)) as sub:
            await sub.subscribe("g1")
            broken.deliver(json.dumps({"guid": "g1", "code": 0}))
            result = await sub.wait("g1", 10)
            await wait_until_async(lambda: "unsubscribe: g1" in healthy.sent, what="the replayed ack")
            return result, sub.reconnects

    result, reconnects = run(scenario())
    assert result.data == {"guid": "g1", "code": 0} and reconnects == 1
    assert broken.sent == ["subscribe: g1"]  # the ack failed; its unsubscribe was never attempted
    assert healthy.sent[:2] == ["ack: g1", "unsubscribe: g1"]


TCP_CORK = getattr(socket, "TCP_CORK", None)


@pytest.mark.skipif(TCP_CORK is None, reason="TCP_CORK is Linux's")
def test_a_corked_socket_holds_the_frames_of_one_loop_pass_then_pushes_them():
    async def scenario() -> tuple[int, int, bytes]:
        with socket.create_server(("127.0.0.1", 0)) as server:
            with socket.create_connection(server.getsockname()) as client:
                peer, _ = server.accept()
                with peer:
                    cork = CorkedWrites(client, TCP_CORK)
                    cork.hold()
                    cork.hold()  # a second frame of the same pass: still one release
                    client.sendall(b"ack: g1")
                    client.sendall(b"unsubscribe: g1")
                    held = client.getsockopt(socket.IPPROTO_TCP, TCP_CORK)
                    await asyncio.sleep(0)  # one pass of the loop: the release runs first
                    released = client.getsockopt(socket.IPPROTO_TCP, TCP_CORK)
                    received = b""
                    peer.settimeout(10)
                    while len(received) < 22:
                        received += peer.recv(64)
                    return held, released, received

    held, released, received = asyncio.run(scenario())
    assert (held, released) == (1, 0)
    assert received == b"ack: g1unsubscribe: g1"


@pytest.mark.skipif(TCP_CORK is None, reason="TCP_CORK is Linux's")
def test_a_closed_socket_is_neither_corked_nor_an_error():
    async def scenario() -> None:
        sock = socket.socket()
        sock.close()
        CorkedWrites(sock, TCP_CORK).hold()  # the send that follows reports the closed connection
        await asyncio.sleep(0)

    asyncio.run(scenario())


def test_with_a_proxy_in_the_environment_websockets_opens_the_connection(monkeypatch):
    monkeypatch.setenv("https_proxy", "http://proxy.invalid:3128")
    assert asyncio.run(link_module._own_socket("wss://relay.invalid/prod")) is None


def test_a_server_that_never_answers_the_upgrade_fails_within_the_open_timeout():
    async def scenario() -> None:
        with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts, never answers
            url = f"ws://127.0.0.1:{silent.getsockname()[1]}/local"
            with pytest.raises(ConnectError, match=r"no connection within 0\.2 s"):
                await Subscriber(SubscriberConfig(url, open_timeout_s=0.2)).start()

    run(scenario())


def test_a_redirect_is_reported_not_followed():
    def moved(ws: ServerConnection, request: Request) -> Response:
        return Response(
            302, "Found", Headers({"Location": "ws://127.0.0.1:9/elsewhere", "Content-Length": "0"})
        )

    async def scenario() -> None:
        async with serve(lambda ws: ws.wait_closed(), "127.0.0.1", 0, process_request=moved) as server:
            url = f"ws://127.0.0.1:{next(iter(server.sockets)).getsockname()[1]}/local"
            with pytest.raises(ConnectError, match="HTTP 302"):
                await Publisher(PublisherConfig(url)).start()

    run(scenario())
