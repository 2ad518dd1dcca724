"""`wsrelay token`'s flags and durations, and how clients present a token (no processes)."""

from __future__ import annotations

import time

import pytest
from auth_support import SECRET, secret_file
from cli_support import cli

from wsrelay.auth.tokens import verify
from wsrelay.cli.checks import UsageError, resolve_token
from wsrelay.client import PublisherConfig, SubscriberConfig, with_token
from wsrelay.tools.token import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"), [("1s", 1), ("15m", 900), ("24h", 86400), ("7d", 604800), ("1.5h", 5400)]
)
def test_durations_carry_their_unit(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["15", "0s", "0.5s", "-1m", "1w", "m", "", "1 h"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_token_is_printed_alone_and_lives_its_ttl(tmp_path):
    code, out, err = cli(
        "token", "--secret-file", str(secret_file(tmp_path)), "--role", "both", "--ttl", "24h"
    )
    assert (code, err) == (0, "") and out.count("\n") == 1
    claims = verify(out.strip(), [SECRET], leeway_s=0)
    assert claims.role == "both" and claims.subject is None
    assert abs(claims.expires_at - (time.time() + 86400)) < 5


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--role", "both", "--ttl", "1h"), "the following arguments are required: --secret-file"),
        (("--secret-file", "SECRET", "--ttl", "1h"), "required: --role"),
        (("--secret-file", "SECRET", "--role", "admin", "--ttl", "1h"), "invalid choice: 'admin'"),
        (("--secret-file", "SECRET", "--role", "both", "--ttl", "60"), "expected a number and a unit"),
        (("--secret-file", "SECRET", "--role", "both", "--ttl", "0s"), "must be at least 1s"),
        (
            ("--secret-file", "SECRET", "--role", "both", "--ttl", "1h", "--sub", " "),
            "--sub must not be empty",
        ),
        (("--secret-file", "MISSING", "--role", "both", "--ttl", "1h"), "no such file"),
        (("--secret-file", "SHORT", "--role", "both", "--ttl", "1h"), "HS256 needs at least 32"),
    ],
)
def test_bad_input_exits_2_naming_the_flag(tmp_path, args, message):
    short = tmp_path / "short"
    short.write_text("short\n")
    paths = {"SECRET": str(secret_file(tmp_path)), "MISSING": str(tmp_path / "missing"), "SHORT": str(short)}
    code, out, err = cli("token", *(paths.get(a, a) for a in args))
    assert code == 2 and out == ""
    assert err.startswith("wsrelay token: error:") and message in err, err


def test_clients_append_the_token_to_every_connections_url():
    assert with_token("wss://h/prod", None) == "wss://h/prod"
    assert with_token("wss://h/prod", "a.b.c") == "wss://h/prod?token=a.b.c"
    assert with_token("wss://h/prod?x=1", "a+b/c") == "wss://h/prod?x=1&token=a%2Bb%2Fc"
    config = SubscriberConfig("ws://h/local", token="a.b.c")
    assert config.connect_url == "ws://h/local?token=a.b.c" and "a.b.c" not in repr(config)
    assert PublisherConfig("ws://h/local").connect_url == "ws://h/local"
    with pytest.raises(ValueError, match="token"):
        PublisherConfig("ws://h/local", token="")


def test_token_flags_of_smoke_and_loadtest(tmp_path):
    path = tmp_path / "token"
    path.write_text("a.b.c\n")
    assert resolve_token(None, path) == "a.b.c" and resolve_token("x.y.z", None) == "x.y.z"
    assert resolve_token(None, None) is None
    for token, file, problem in [
        ("x", path, "give one, not both"),
        (None, tmp_path / "none", "no such file"),
        (" ", None, "must not be empty"),
    ]:
        with pytest.raises(UsageError, match=problem):
            resolve_token(token, file)
    empty = tmp_path / "empty"
    empty.write_text("\n")
    code, _, err = cli("smoke", "ws://127.0.0.1:9/local", "--token-file", str(empty))
    assert code == 2 and "holds no token" in err
    code, _, err = cli("loadtest", "ws://127.0.0.1:9/local", "--token", "a", "--token-file", str(path))
    assert code == 2 and "give one, not both" in err
