"""`wsrelay serve --auth-secret-file` does what API Gateway does with a REQUEST authorizer on
``$connect`` (identity source ``route.request.querystring.token``), in both runtimes: 401 without
``?token=``, 403 for a refused token, the authorizer's context on every event; the clients, smoke
and loadtest send their token on every connection."""

from __future__ import annotations

import pytest
import websockets
from auth_support import PREVIOUS, SECRET, secret_file, status_of, token, with_header
from gateway_support import run
from tool_support import loadtest, serve_once, smoke, wsrelay
from waiting import wait_until_async

from wsrelay.auth.tokens import verify
from wsrelay.client import Publisher, PublisherConfig, Subscriber, SubscriberConfig

pytestmark = pytest.mark.processes
RUNTIMES = ["inprocess", "lmi"]


@pytest.fixture
def auth_server(served, tmp_path):
    def start(runtime: str = "inprocess", *flags: str, secrets: tuple[bytes, ...] = (SECRET,)):
        return served(
            "--quiet", "--auth-secret-file", str(secret_file(tmp_path, *secrets)), *flags, runtime=runtime
        )

    return start


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_upgrade_is_refused_as_api_gateway_refuses_it(auth_server, runtime):
    server = auth_server(runtime)
    url = server.websocket
    cases = {
        "": 401,  # no identity source: API Gateway answers before invoking the authorizer
        "?token=": 401,  # an empty one too
        "?other=1": 401,
        f"?token={token(ttl_s=-60)}": 403,  # expired
        f"?token={token(secret=b'f' * 48)}": 403,  # forged: another secret
        f"?token={with_header({'alg': 'RS256', 'typ': 'JWT'})}": 403,  # wrong alg
        "?token=garbage": 403,
        f"?token={token('publisher')}": 101,
    }
    assert {query: run(status_of(url + query)) for query in cases} == cases
    stats = server.stats()
    assert stats["routes"]["$authorizer"]["invocations"] == 5  # never for the 401s
    assert stats["routes"]["$connect"]["invocations"] == 1


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_full_client_cycle_with_tokens_and_the_context_on_every_event(auth_server, runtime):
    server = auth_server(runtime)

    async def cycle() -> tuple[str, str]:
        sub_config = SubscriberConfig(server.websocket, token=token("subscriber", sub="router-1"))
        pub_config = PublisherConfig(server.websocket, token=token("publisher", sub="worker-1"))
        async with Subscriber(sub_config) as router, Publisher(pub_config) as worker:
            await router.subscribe("auth-job-1")
            await wait_until_async(lambda: server.invocations() >= 1, what="the subscribe")
            ack = await worker.publish("auth-job-1", {"code": 0})
            result = await router.wait("auth-job-1", timeout=10)
            return result.raw, ack.acknowledged_by

    raw, acknowledged_by = run(cycle())
    assert raw == '{"code":0,"guid":"auth-job-1"}' and acknowledged_by
    server.stop()
    lines = server.handler_log()
    roles = {(line["route"], line.get("role")) for line in lines}
    # requestContext.authorizer reached $connect, the messages and $disconnect of both.
    for role in ("subscriber", "publisher"):
        assert {("$connect", role), ("$default", role), ("$disconnect", role)} <= roles
    assert {line["outcome"] for line in lines if line["route"] == "$connect:authorizer"} == {"allowed"}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_role_violations_are_refused_through_the_stack(auth_server, runtime):
    server = auth_server(runtime)

    async def violate() -> list[str]:
        url = server.websocket
        async with websockets.connect(f"{url}?token={token('subscriber')}") as router:
            async with websockets.connect(f"{url}?token={token('publisher')}") as worker:
                await router.send('{"guid":"auth-job-2"}')
                await worker.send("subscribe: auth-job-2")
                await worker.send("ack: auth-job-2")
                return [await router.recv(), await worker.recv(), await worker.recv()]

    # A connection's frames run as concurrent invocations (as on API Gateway; the lmi runtime
    # has several worker processes), so the worker's two replies may come in either order.
    router_reply, *worker_replies = run(violate())
    assert router_reply == "error: role subscriber may not publish"
    assert sorted(worker_replies) == [
        "error: role publisher may not ack",
        "error: role publisher may not subscribe",
    ]


def test_permissive_mode_lets_bad_tokens_and_violations_through_and_counts_them(auth_server):
    server = auth_server("inprocess", "--auth-mode", "permissive")
    url = server.websocket
    assert run(status_of(url)) == 401  # still: API Gateway answers before the authorizer runs

    async def exchange() -> str:
        async with websockets.connect(f"{url}?token=garbage") as anyone:  # allowed as both
            async with websockets.connect(f"{url}?token={token('subscriber')}") as router:
                await anyone.send("subscribe: auth-job-3")
                await wait_until_async(lambda: server.invocations() >= 1, what="the subscribe")
                await router.send('{"guid":"auth-job-3"}')  # a violation, let through
                return await anyone.recv()

    assert run(exchange()) == '{"guid":"auth-job-3"}'
    server.stop()
    lines = server.handler_log()
    assert any(line.get("AuthorizerWouldDeny") == 1 for line in lines)
    [violation] = [line for line in lines if line.get("RoleViolations")]
    assert violation["outcome"] == "published" and violation["role"] == "subscriber"


def test_a_rotation_accepts_tokens_of_the_previous_secret(auth_server):
    server = auth_server("inprocess", secrets=(SECRET, PREVIOUS))
    for secret in (SECRET, PREVIOUS):
        assert run(status_of(f"{server.websocket}?token={token(secret=secret)}")) == 101


def test_smoke_and_loadtest_send_their_token(auth_server, tmp_path):
    server = auth_server("inprocess")
    token_file = tmp_path / "token"
    token_file.write_text(token("both") + "\n")
    done = smoke(server.websocket, "--token-file", str(token_file))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "token" not in done.stdout.splitlines()[-1]  # the report names the URL without it
    refused = smoke(server.websocket)
    assert refused.returncode == 1 and "401" in refused.stdout
    load = loadtest(server.websocket, "--rate", "20", "--duration-s", "0.5", "--token", token("both"))
    assert load.returncode == 0, load.stdout + load.stderr


def test_serve_checks_the_secret_file_at_start(tmp_path):
    missing = serve_once("--auth-secret-file", str(tmp_path / "nope"), "--state-dir", str(tmp_path / "s"))
    assert missing.returncode == 2
    assert f"--auth-secret-file {tmp_path / 'nope'}: no such file" in missing.stderr
    short = tmp_path / "short"
    short.write_text("tooshort\n")
    bad = serve_once("--auth-secret-file", str(short), "--state-dir", str(tmp_path / "s"))
    assert bad.returncode == 2 and "HS256 needs at least 32" in bad.stderr


def test_wsrelay_token_prints_the_token_alone(tmp_path):
    path = secret_file(tmp_path, SECRET, PREVIOUS)
    done = wsrelay("token", "--secret-file", str(path), "--role", "publisher", "--ttl", "15m", "--sub", "w-1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1 and done.stderr == ""
    claims = verify(done.stdout.strip(), [SECRET], leeway_s=0)  # signed with line 1
    assert (claims.role, claims.subject) == ("publisher", "w-1")


def test_without_an_authorizer_a_token_is_ignored_and_nothing_changes(served):
    # Rollout step 1: clients carry ?token= while authorization is off.
    server = served("--quiet")
    assert run(status_of(f"{server.websocket}?token=garbage")) == 101
    assert run(status_of(server.websocket)) == 101
    assert "$authorizer" not in server.stats()["routes"]
    server.stop()
    assert not any("role" in line for line in server.handler_log())
