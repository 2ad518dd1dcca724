"""Start `wsrelay serve` as a real child process on 127.0.0.1 and talk to it over sockets
(tests use the `served` fixture of conftest.py, which stops every server it started), and the
helpers the tests share: one router/worker cycle, a connection's own id, the outcome of seeded
429 faults."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from waiting import wait_until_async

from wsrelay.local.faults import Faults

TESTS = Path(__file__).resolve().parent


@dataclass
class Served:
    proc: subprocess.Popen
    websocket: str
    management: str
    stats_url: str
    state_dir: Path
    output: list[str] = field(default_factory=list)
    drain: threading.Thread | None = None

    def stats(self) -> dict:
        with urllib.request.urlopen(self.stats_url, timeout=5) as response:
            return json.loads(response.read())

    def invocations(self, route: str = "$default") -> int:
        """Completed invocations of `route` so far (0 before its first)."""
        return self.stats()["routes"].get(route, {}).get("invocations", 0)

    def handler_log(self) -> list[dict]:
        path = self.state_dir / "handlers.log"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]

    def stop(self, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout)
        if self.drain is not None:
            self.drain.join(timeout)  # every line the process wrote is in `output`
        return code


def start(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Served:
    """`wsrelay serve` with `args`; ``--publisher-ack router`` unless `args` name a mode (the
    tests written before the flag existed check today's behaviour, which is router mode)."""
    if not any(arg.startswith("--publisher-ack") for arg in args):
        args = ("--publisher-ack", "router", *args)
    state = tmp_path / "state"
    state.parent.mkdir(parents=True, exist_ok=True)  # serve creates the state dir, never its folder
    cmd = [sys.executable, "-m", "wsrelay.cli", "serve", "--port", "0", "--state-dir", str(state), *args]
    # The test handler modules come first; an existing PYTHONPATH (a checkout under test) stays.
    python_path = os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))
    child_env = {**os.environ, "PYTHONPATH": python_path, **(env or {})}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    match = re.search(r"websocket=(\S+) management=(\S+) stats=(\S+)", first)
    if match is None:
        rest = proc.stdout.read() if proc.poll() is not None else ""
        proc.kill()
        raise RuntimeError(f"wsrelay serve did not start: {first!r} {rest!r}")
    served = Served(proc, match.group(1), match.group(2), match.group(3), state)
    served.output.append(first)

    def drain() -> None:
        for line in proc.stdout:
            served.output.append(line)

    served.drain = threading.Thread(target=drain, daemon=True)
    served.drain.start()
    return served


# -- talking to a running stack -----------------------------------------------------------------

RESULT = {"guid": "job-1", "code": 0, "asm": [{"text": "mov eax, 1"}]}


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def cycle(served: Served, guid: str = "job-1") -> tuple[str, dict]:
    """Router subscribes, worker publishes once the subscribe ran, router acks and unsubscribes;
    returns (result seen, ack seen) once all four invocations completed."""
    url = served.websocket
    async with websockets.connect(url) as router, websockets.connect(url) as worker:
        before = served.invocations()
        await router.send(f"subscribe: {guid}")
        await wait_until_async(lambda: served.invocations() > before, what=f"the subscribe of {guid}")
        result = json.dumps({**RESULT, "guid": guid})
        await worker.send(result)
        got = await router.recv()
        await router.send(f"ack: {guid}")
        ack = json.loads(await worker.recv())
        await router.send(f"unsubscribe: {guid}")
        await wait_until_async(lambda: served.invocations() >= before + 4, what=f"the unsubscribe of {guid}")
        assert got == result  # relayed byte for byte
        return got, ack


async def own_connection_id(url: str, ws) -> str:
    """Learn a connection's id the protocol's way: the ack names its acker."""
    async with websockets.connect(url) as helper:
        guid = f"whoami-{time.monotonic_ns()}"
        await ws.send(f"subscribe: {guid}")
        await helper.send(json.dumps({"guid": guid}))  # delivered whichever runs first
        await ws.recv()
        await ws.send(f"ack: {guid}")
        return json.loads(await helper.recv())["acknowledgedBy"]


async def failing_action_then_ping(url: str, action: str) -> tuple[dict, str]:
    """Send a frame routed to `action`, read the gateway's error, then check the connection
    stays usable: returns (error document, reply to ping)."""
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"action": action}))
        error = json.loads(await ws.recv())
        await ws.send("ping")
        return error, await ws.recv()


# -- injected faults ----------------------------------------------------------------------------

ATTEMPTS = 4  # ManagementApiOutbound's RetryPolicy.max_attempts


def post_outcomes(seed: int, posts: int) -> tuple[list[bool], int]:
    """What ``--post-429 0.5 --fault-seed SEED`` does to `posts` posts in a row to the first
    connection: which get through within the outbound's retry budget, and how many 429s are
    answered on the way."""
    faults = Faults(post_429=0.5, seed=seed)
    delivered, answered_429, attempt = [], 0, 0
    for _ in range(posts):
        for _try in range(ATTEMPTS):
            attempt += 1
            if faults.post_status(1, attempt) is None:
                delivered.append(True)
                break
            answered_429 += 1
        else:
            delivered.append(False)
    return delivered, answered_429
