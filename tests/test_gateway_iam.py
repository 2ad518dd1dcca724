"""`wsrelay serve --auth iam --iam-credentials-file F` checks SigV4 on the upgrade, as API Gateway
does for a ``$connect`` route with IAM authorization: the clients given credentials connect and
run a whole cycle, an unsigned or badly signed upgrade is refused with 403, and roles are not
enforced (no authorizer context reaches the relay). The flags' rules: exit 2."""

from __future__ import annotations

import pytest
import websockets
from auth_support import status_of
from botocore.credentials import Credentials
from gateway_support import run
from tool_support import serve_once
from waiting import wait_until_async

from wsrelay.client import Publisher, PublisherConfig, Subscriber, SubscriberConfig
from wsrelay.client.sigv4 import signed_headers

pytestmark = pytest.mark.processes
KEY, SECRET = "AKIDLOCALTEST", "local-secret-access-key-for-tests"


@pytest.fixture
def credentials_file(tmp_path):
    path = tmp_path / "iam-credentials"
    path.write_text(f"{KEY}\n{SECRET}\n")
    return path


@pytest.fixture
def iam_server(served, credentials_file):
    return served("--quiet", "--auth", "iam", "--iam-credentials-file", str(credentials_file))


async def signed_status(url: str, credentials: Credentials, tamper: str = "") -> int:
    """The status of an upgrade signed for `url`, sent to `url` + `tamper`."""
    headers = signed_headers(url, credentials, "us-east-1")
    try:
        async with websockets.connect(url + tamper, additional_headers=headers):
            return 101
    except websockets.InvalidStatus as refused:
        return refused.response.status_code


def test_sigv4_is_accepted_and_a_bad_signature_refused(iam_server):
    url = iam_server.websocket
    good = Credentials(KEY, SECRET)
    assert run(signed_status(url, good)) == 101
    assert run(status_of(url)) == 403  # unsigned: "Missing Authentication Token"
    assert run(status_of(f"{url}?token=anything")) == 403  # a token is no signature
    assert run(signed_status(url, Credentials(KEY, "not-the-secret"))) == 403
    assert run(signed_status(url, Credentials("AKIDSOMEONEELSE", SECRET))) == 403
    assert run(signed_status(url, good, tamper="?added=1")) == 403  # the query is signed
    assert iam_server.stats()["routes"]["$connect"]["invocations"] == 1  # refused before $connect


def test_the_clients_sign_with_credentials_and_roles_are_not_enforced(iam_server):
    url = iam_server.websocket
    good = Credentials(KEY, SECRET)

    async def cycle() -> tuple[str, str]:
        async with (
            Subscriber(SubscriberConfig(url, credentials=good, region="us-east-1")) as router,
            Publisher(PublisherConfig(url, credentials=good, region="us-east-1")) as worker,
        ):
            await router.subscribe("iam-job-1")
            await wait_until_async(lambda: iam_server.invocations() >= 1, what="the subscribe")
            ack = await worker.publish("iam-job-1", {"code": 0})
            result = await router.wait("iam-job-1", timeout=10)
            return result.raw, ack.acknowledged_by

    raw, acknowledged_by = run(cycle())
    assert raw == '{"code":0,"guid":"iam-job-1"}' and acknowledged_by
    assert "$authorizer" not in iam_server.stats()["routes"]  # no Lambda authorizer under IAM
    iam_server.stop()
    lines = iam_server.handler_log()
    assert lines and not any("role" in line for line in lines)  # who connects is the policy's job


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--auth", "iam"], "--auth iam needs --iam-credentials-file FILE"),
        (["--auth", "token"], "--auth token needs --auth-secret-file FILE"),
        (["--auth", "none", "--iam-credentials-file", "CREDS"], "is for --auth iam, not --auth none"),
        (
            ["--auth", "iam", "--iam-credentials-file", "CREDS", "--auth-secret-file", "CREDS"],
            "not --auth iam",
        ),
        (["--auth", "basic"], "invalid choice: 'basic'"),
    ],
)
def test_the_auth_flags_rules_are_usage_errors(tmp_path, credentials_file, flags, message):
    flags = [str(credentials_file) if flag == "CREDS" else flag for flag in flags]
    done = serve_once(*flags, "--state-dir", str(tmp_path / "s"))
    assert done.returncode == 2 and message in done.stderr, done.stderr


def test_a_bad_credentials_file_is_a_usage_error(tmp_path):
    bad = tmp_path / "creds"
    bad.write_text("only-one-line\n")
    done = serve_once("--iam-credentials-file", str(bad), "--state-dir", str(tmp_path / "s"))
    assert done.returncode == 2 and "access key id on line 1" in done.stderr
