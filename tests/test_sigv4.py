"""SigV4 on the upgrade, without a server: what the clients sign (`wsrelay.client.sigv4`) the
local gateway's check (`wsrelay.local.iam.SigV4Check`) accepts, and every change to what was
signed, or a signature too old, is refused with 403. The credentials file's format."""

from __future__ import annotations

import time

import pytest
from botocore.credentials import Credentials
from websockets.datastructures import Headers

from wsrelay.cli.checks import UsageError
from wsrelay.client import ConnectionConfig
from wsrelay.client.sigv4 import region_of, signed_headers
from wsrelay.local.iam import SigV4Check, read_credentials_file

KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
URL = "ws://127.0.0.1:3001/local"


def upgrade(url: str = URL, credentials=None, region: str = "us-east-1", **extra: str) -> Headers:
    """The headers of an upgrade request as websockets sends it: Host from the URL, then ours."""
    host = url.split("://", 1)[1].split("/", 1)[0]
    headers = Headers(Host=host, Upgrade="websocket", Connection="Upgrade", **extra)
    headers.update(signed_headers(url, credentials or Credentials(KEY, SECRET), region))
    return headers


def target(url: str = URL) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def test_a_signed_upgrade_is_accepted_with_its_query_string():
    check = SigV4Check(KEY, SECRET)
    assert check("GET", target(), upgrade()) == (None, KEY)
    with_query = f"{URL}?token=abc&x=1"
    assert check("GET", target(with_query), upgrade(with_query)) == (None, KEY)
    # any region: the scope says which one was signed for
    assert check("GET", target(), upgrade(region="eu-west-1"))[0] is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda h, t: (h, t + "?extra=1"), "signature does not match"),  # the query string
        (lambda h, t: (h, "/other"), "signature does not match"),  # the path
        (lambda h, t: (_replaced(h, "Host", "127.0.0.1:3002"), t), "signature does not match"),
        (lambda h, t: (_replaced(h, "Authorization", None), t), "missing authentication token"),
        (lambda h, t: (_replaced(h, "X-Amz-Date", None), t), "no valid X-Amz-Date"),
        (
            lambda h, t: (_replaced(h, "Authorization", h["Authorization"][:-4] + "0000"), t),
            "signature does not match",
        ),
        (lambda h, t: (_replaced(h, "Authorization", "Bearer x"), t), "malformed"),
    ],
    ids=["query", "path", "host", "unsigned", "no-date", "bad-signature", "not-sigv4"],
)
def test_anything_changed_after_signing_is_refused_with_403(change, reason):
    headers, path = change(upgrade(), target())
    status, why = SigV4Check(KEY, SECRET)("GET", path, headers)
    assert status == 403 and reason in why


def _replaced(headers: Headers, name: str, value: str | None) -> Headers:
    copy = Headers(headers.raw_items())
    del copy[name]
    if value is not None:
        copy[name] = value
    return copy


def test_another_key_another_service_or_an_old_signature_is_refused():
    assert SigV4Check("AKIDOTHER", SECRET)("GET", target(), upgrade())[1] == "unknown access key"
    assert SigV4Check(KEY, "other-secret")("GET", target(), upgrade())[1] == "signature does not match"
    later = SigV4Check(KEY, SECRET, clock=lambda: time.time() + 301)
    assert "expired" in later("GET", target(), upgrade())[1]
    wrong_service = upgrade()
    wrong_service["Authorization"] = wrong_service.pop("Authorization").replace("/execute-api/", "/s3/")
    assert "not execute-api" in SigV4Check(KEY, SECRET)("GET", target(), wrong_service)[1]


def test_temporary_credentials_sign_their_session_token():
    headers = upgrade(credentials=Credentials(KEY, SECRET, "session-token"))
    assert headers["X-Amz-Security-Token"] == "session-token"
    assert "x-amz-security-token" in headers["Authorization"]
    assert SigV4Check(KEY, SECRET)("GET", target(), headers)[0] is None


def test_the_config_signs_each_connection_fresh_and_only_with_credentials():
    plain = ConnectionConfig(URL, headers={"X-Trace": "1"})
    assert plain.upgrade_headers() == {"X-Trace": "1"}
    signed = ConnectionConfig(URL, headers={"X-Trace": "1"}, credentials=Credentials(KEY, SECRET))
    headers = signed.upgrade_headers()
    assert headers["X-Trace"] == "1" and headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert "Host" not in headers and SECRET not in repr(signed)
    api = "wss://abc123def4.execute-api.eu-west-2.amazonaws.com/prod"
    assert region_of(api) == "eu-west-2" and region_of(URL) is None
    scoped = ConnectionConfig(api, credentials=Credentials(KEY, SECRET)).upgrade_headers()
    assert "/eu-west-2/execute-api/aws4_request" in scoped["Authorization"]


def test_the_credentials_file_holds_two_lines(tmp_path):
    good = tmp_path / "creds"
    good.write_text(f"{KEY}\n{SECRET}\n")
    assert read_credentials_file(good) == (KEY, SECRET)
    for text in (f"{KEY}\n", f"{KEY}\n{SECRET}\nthird\n", f"{KEY} {SECRET}\n"):
        good.write_text(text)
        with pytest.raises(UsageError, match="access key id on line 1 and the secret access key on line 2"):
            read_credentials_file(good)
    with pytest.raises(UsageError, match="--iam-credentials-file"):
        read_credentials_file(tmp_path / "missing")
