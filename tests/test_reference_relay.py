"""benchmarks/reference_relay.py, the local stack benchmark's reference: started as a real process
on loopback, it answers the protocol's frames as wsrelay does, enforces the gateway's size
limits, and its `serve` and `bench` commands fail clearly."""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

pytestmark = pytest.mark.processes

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "reference_relay.py"


def command(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout
    )


@contextlib.contextmanager
def reference() -> Iterator[str]:
    """A reference relay process; on exit it must stop cleanly on SIGTERM, having logged nothing."""
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "serve"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # printed once the port is bound
        match = re.search(r"listening (ws://\S+)", line)
        assert match, line
        yield match.group(1)
    finally:
        proc.terminate()
        _, errors = proc.communicate(timeout=30)
    assert proc.returncode == 0 and errors == ""


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 30))


async def handled(ws) -> None:
    """Return once the relay handled every frame `ws` sent so far (one connection's frames are
    handled in order, and whatever they relayed is on its way before the pong)."""
    await ws.send("ping")
    assert await ws.recv() == "pong"


def test_cycle_frames_match_wsrelay():
    """The cycle's frames; a late subscriber gets the unacked result; an unsubscribed one nothing."""

    async def scenario(url: str) -> tuple[str, str, str, str]:
        async with websockets.connect(url) as router, websockets.connect(url) as worker:
            await router.send("subscribe: job-1")
            await handled(router)
            await worker.send('{"guid": "job-1", "code": 0}')
            result = await router.recv()
            await router.send("ack: job-1")
            ack = await worker.recv()
            await worker.send('{"guid": "early"}')
            await handled(worker)
            await router.send("subscribe: early")
            late = await router.recv()
            await router.send("subscribe: gone")
            await router.send("unsubscribe: gone")
            await handled(router)
            await worker.send('{"guid": "gone"}')
            await handled(worker)
            await router.send("ping")
            return result, ack, late, await router.recv()

    with reference() as url:
        result, ack, late, after_unsubscribe = run(scenario(url))
    assert result == '{"guid": "job-1", "code": 0}'  # verbatim
    assert re.fullmatch(r'\{"type":"ack","guid":"job-1","acknowledgedBy":"[0-9a-f]{16}"\}', ack)
    assert late == '{"guid": "early"}'
    assert after_unsubscribe == "pong"  # the pong comes first: nothing was relayed


@pytest.mark.parametrize(
    ("frame", "reply"),
    [
        ("hello", "unknown text message"),
        ("subscribe:x", "unknown text message"),
        ('{"no": "guid"}', "unknown object message"),
        ("{not json", "error: frame starts with a brace but is not valid JSON"),
        (b"\x00\xff", "error: frame is not UTF-8 text"),
    ],
)
def test_other_frames_get_wsrelays_replies_and_the_connection_stays(frame, reply):
    async def scenario(url: str) -> tuple[str, str]:
        async with websockets.connect(url) as ws:
            await ws.send(frame)
            answer = await ws.recv()
            await ws.send("ping")
            return answer, await ws.recv()

    with reference() as url:
        assert run(scenario(url)) == (reply, "pong")


@pytest.mark.parametrize(
    "message",
    [["x" * 40_000], ["x" * 30_000] * 5],  # one 40 KB frame; 150 KB in 30 KB frames
    ids=["frame-over-32KB", "message-over-128KB"],
)
def test_gateway_size_limits_close_with_1009(message):
    async def scenario(url: str) -> int:
        async with websockets.connect(url) as ws:
            await ws.send(message if len(message) > 1 else message[0])
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
            assert closed.value.rcvd is not None
            return closed.value.rcvd.code

    with reference() as url:
        assert run(scenario(url)) == 1009


def test_bench_prints_cycles_against_the_reference():
    with reference() as url:
        result = command("bench", url, "--pairs", "2", "--seconds", "0.3")
    assert result.returncode == 0, result.stderr
    match = re.fullmatch(r"pairs=2 cycles=(\d+) cycles/s=\d+ p50=[\d.]+ms p99=[\d.]+ms\n", result.stdout)
    assert match and int(match.group(1)) >= 2


def test_bench_reports_an_unreachable_relay_in_one_line():
    result = command("bench", "ws://127.0.0.1:9", "--seconds", "0.3")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("reference relay bench: ws://127.0.0.1:9: ConnectionRefusedError")
    assert result.stderr.count("\n") == 1


def test_bench_reports_a_server_that_breaks_the_protocol():
    """A server answering every frame with `pong` is caught by the client's checks."""

    async def echo_pong(ws) -> None:
        async for _ in ws:
            await ws.send("pong")

    async def scenario() -> subprocess.CompletedProcess:
        async with websockets.serve(echo_pong, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            return await asyncio.to_thread(command, "bench", f"ws://127.0.0.1:{port}", "--seconds", "0.3")

    result = run(scenario())
    assert result.returncode == 1
    assert "CycleError: the subscriber of" in result.stderr and "'pong', not the result" in result.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["bench", "ws://127.0.0.1:9", "--pairs", "0"], "--pairs"),
        (["bench", "ws://127.0.0.1:9", "--seconds", "soon"], "--seconds"),
        (["serve", "--port", "x"], "--port"),
        (["launch"], "launch"),
    ],
)
def test_bad_flags_exit_2_naming_them(args, named):
    result = command(*args)
    assert result.returncode == 2 and named in result.stderr


def test_port_in_use_exits_2():
    with reference() as url:
        port = url.rsplit(":", 1)[1]
        result = command("serve", "--port", port)
    assert result.returncode == 2
    assert result.stderr.startswith(f"reference relay: cannot listen on 127.0.0.1:{port}: ")
