"""The local stack end to end, the relay's side: `wsrelay serve` in a child process, clients on
real sockets. A full router/worker cycle on every runtime, late subscribers, stored results
across restarts, the handler log and its rotation, the console lines and the stats endpoint."""

from __future__ import annotations

import json
import re

import pytest
import websockets
from gateway_support import RESULT, cycle, run
from waiting import wait_until, wait_until_async

pytestmark = pytest.mark.processes


@pytest.mark.parametrize("runtime", ["inprocess", "lmi", "ondemand"])
def test_full_router_worker_cycle(served, runtime):
    server = served("--cold-start-ms", "50", "--concurrency", "2", runtime=runtime)
    _, ack = run(cycle(server))
    assert list(ack) == ["type", "guid", "acknowledgedBy"]
    assert ack["type"] == "ack" and ack["guid"] == "job-1" and len(ack["acknowledgedBy"]) == 16
    assert server.invocations("$connect") == 2 and server.invocations() == 4
    assert server.stop() == 0
    log = server.handler_log()
    outcomes = sorted(line["outcome"] for line in log if line["route"] == "$default")
    assert outcomes == ["acked", "published", "subscribed", "unsubscribed"]  # publish after subscribe
    assert sum(line["route"] == "$disconnect" for line in log) == 2


def test_late_subscriber_gets_the_stored_result(served):
    server = served()

    async def scenario():
        async with websockets.connect(server.websocket) as worker:
            await worker.send(json.dumps(RESULT))
            await wait_until_async(lambda: server.invocations() == 1, what="the publish")
        async with websockets.connect(server.websocket) as router:  # arrives after the publish
            await router.send("subscribe: job-1")
            return await router.recv()

    assert json.loads(run(scenario())) == RESULT
    server.stop()
    assert any(line.get("LateDeliveries") == 1 for line in server.handler_log())


RESULTS = [{**RESULT, "guid": f"job-{i}"} for i in range(3)]


def published_then_restarted(served, stop, written: bool) -> list[dict]:
    """Publish RESULTS and wait until the stack handled them (and, when `written`, until they
    are in its SQLite file), then `stop` it, start a new one on the same state dir and return
    what a late subscriber gets there."""
    first = served()
    database = first.state_dir / "relay.sqlite3"

    def in_the_file() -> bool:
        content = database.read_bytes()  # the rows hold each result verbatim
        return all(json.dumps(result).encode() in content for result in RESULTS)

    async def publish():
        async with websockets.connect(first.websocket) as worker:
            for result in RESULTS:
                await worker.send(json.dumps(result))
            await wait_until_async(lambda: first.invocations() == len(RESULTS), what="the publishes")
            if written:
                await wait_until_async(in_the_file, what="the results in relay.sqlite3")

    run(publish())
    stop(first)
    second = served()

    async def late_subscriber():
        async with websockets.connect(second.websocket) as router:
            for result in RESULTS:
                await router.send(f"subscribe: {result['guid']}")
            return sorted([json.loads(await router.recv()) for _ in RESULTS], key=lambda r: r["guid"])

    return run(late_subscriber())


def test_a_stored_result_survives_a_restart_of_the_stack(served):
    """The inprocess runtime's store writes behind; a clean stop flushes it to the file."""

    def clean_stop(server) -> None:
        assert server.stop() == 0

    # stopped as soon as the publishes ran, mostly inside the store's flush interval: the stop
    # itself writes what is pending
    assert published_then_restarted(served, clean_stop, written=False) == RESULTS


def test_results_survive_a_kill_once_the_idle_flush_ran(served):
    """SIGKILL (no clean stop) once the write-behind reached the file, with no further write:
    the restarted stack reads the results back from it."""

    def kill(server) -> None:
        server.proc.kill()
        server.proc.wait(10)

    assert published_then_restarted(served, kill, written=True) == RESULTS


@pytest.mark.parametrize("runtime", ["inprocess", "lmi"])
def test_handler_log_rotates_past_its_limit(served, runtime):
    server = served("--log-max-mib", "0.002", runtime=runtime)
    limit = int(0.002 * 2**20)  # bytes, as wsrelay serve converts it

    current, previous = server.state_dir / "handlers.log", server.state_dir / "handlers.log.1"

    async def cycles():
        for i in range(8):  # 4 invocations each, ~400 bytes of log lines per invocation
            await cycle(server, f"job-{i}")

    def rotated() -> bool:  # housekeeping after the last write: every 0.1 s (inprocess), 1 s (lmi)
        return previous.exists() and current.stat().st_size < limit

    run(cycles())
    # a rename-and-reopen leaves no handlers.log for an instant: a poll may miss it
    wait_until(rotated, what="handlers.log rotated below its limit", ignore=(FileNotFoundError,))
    assert server.stop() == 0
    assert previous.exists() and previous.stat().st_size >= limit
    assert current.stat().st_size < limit  # rotated again whenever it reached the limit
    for path in (current, previous):  # whole JSON lines only
        assert all(json.loads(line) for line in path.read_text().splitlines())


@pytest.mark.parametrize("quiet", [False, True])
def test_console_line_per_invocation(served, quiet):
    server = served(*(["--quiet"] if quiet else []))
    run(cycle(server))
    assert server.stop() == 0
    line = re.compile(r"^\d\d:\d\d:\d\d (\S+) +(\S{16}) (\d{3}|error|timeout|throttled) \d+\.\dms")
    lines = [m.groups() for m in map(line.match, "".join(server.output).splitlines()) if m]
    if quiet:
        assert lines == []
        return
    routes = [route for route, _, _ in lines]
    assert routes.count("$connect") == 2 and routes.count("$disconnect") == 2
    assert routes.count("$default") == 4  # subscribe, publish, ack, unsubscribe
    assert all(status == "200" for _, _, status in lines)
    assert len({cid for _, cid, _ in lines}) == 2  # router and worker


def test_stats_endpoint_shape(served):
    server = served()
    run(cycle(server))
    stats = server.stats()
    assert stats["runtime"] == "inprocess"
    assert stats["connections"]["open"] == 0 and stats["connections"]["opened"] == 2
    latency = stats["routes"]["$default"]["latency_ms"]
    assert 0 < latency["p50"] <= latency["p99"] <= latency["max"]
    assert stats["posts"]["200"] == 2
