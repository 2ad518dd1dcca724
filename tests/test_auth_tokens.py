"""Tokens (HS256 only; role, exp, sub), the secrets file and its rotation, and `AuthSettings`."""

from __future__ import annotations

import time

import jwt
import pytest
from auth_support import OTHER, PREVIOUS, SECRET, secret_file, token, with_header

from wsrelay.auth.settings import AuthSettings, read_secret_file
from wsrelay.auth.tokens import Claims, TokenRefused, issue, verify
from wsrelay.config import ConfigError


def test_a_valid_token_gives_its_claims():
    issued = issue(SECRET, "publisher", 900, subject="worker-7")
    claims = verify(issued, [SECRET], leeway_s=5)
    assert claims == Claims("publisher", claims.expires_at, "worker-7")
    assert abs(claims.expires_at - (time.time() + 900)) < 5
    assert jwt.get_unverified_header(issued)["alg"] == "HS256"


def test_sub_is_optional():
    assert verify(issue(SECRET, "subscriber", 60), [SECRET], 5).subject is None


@pytest.mark.parametrize(
    ("forged", "reason"),
    [
        (lambda: token(ttl_s=-60), "expired"),
        (lambda: token(nbf=int(time.time()) + 600), "not yet valid"),
        (lambda: token(secret=OTHER), "signature does not match"),
        (lambda: token()[:-4] + "AAAA", "signature does not match"),  # a tampered signature
        (lambda: jwt.encode({"role": "both", "exp": int(time.time()) + 60}, None, algorithm="none"), "alg"),
        (
            lambda: jwt.encode({"role": "both", "exp": int(time.time()) + 60}, SECRET, algorithm="HS384"),
            "alg",
        ),
        (lambda: with_header({"alg": "RS256", "typ": "JWT"}), "alg 'RS256' refused"),
        (lambda: with_header({"typ": "JWT"}), "alg None refused"),
        (lambda: jwt.encode({"role": "both"}, SECRET, algorithm="HS256"), "no exp claim"),
        (lambda: jwt.encode({"exp": int(time.time()) + 60}, SECRET, algorithm="HS256"), "no role claim"),
        (lambda: token(role="admin", exp=int(time.time()) + 60), "role must be one of"),
        (lambda: "not.a.jwt", "not a JWT"),
        (lambda: "", "not a JWT"),
    ],
    ids=[
        "expired",
        "not-yet-valid",
        "other-secret",
        "tampered",
        "alg-none",
        "alg-HS384",
        "alg-RS256-header",
        "no-alg",
        "no-exp",
        "no-role",
        "unknown-role",
        "garbage",
        "empty",
    ],
)
def test_refused_tokens_say_why(forged, reason):
    with pytest.raises(TokenRefused, match=reason):
        verify(forged(), [SECRET], leeway_s=5)


def test_the_leeway_allows_clock_skew_on_exp_and_nbf():
    just_expired = token(exp=int(time.time()) - 30)
    assert verify(just_expired, [SECRET], leeway_s=60).role == "both"
    with pytest.raises(TokenRefused, match="expired"):
        verify(just_expired, [SECRET], leeway_s=5)
    early = token(nbf=int(time.time()) + 30)
    assert verify(early, [SECRET], leeway_s=60).role == "both"


def test_rotation_accepts_either_secret_and_nothing_else():
    old, new = token(secret=PREVIOUS), token(secret=SECRET)
    both = [SECRET, PREVIOUS]
    assert verify(old, both, 5).role == verify(new, both, 5).role == "both"
    with pytest.raises(TokenRefused, match="signature"):
        verify(old, [SECRET], 5)  # the rotation is over: the previous secret is gone
    with pytest.raises(TokenRefused, match="signature"):
        verify(token(secret=OTHER), both, 5)


def test_an_expired_token_is_refused_as_expired_whichever_secret_signed_it():
    with pytest.raises(TokenRefused, match="expired"):
        verify(token(ttl_s=-60, secret=PREVIOUS), [SECRET, PREVIOUS], 5)


def test_issue_refuses_what_it_cannot_sign():
    with pytest.raises(ValueError, match="role"):
        issue(SECRET, "admin", 60)
    with pytest.raises(ValueError, match="positive"):
        issue(SECRET, "both", 0)


# -- the secret file and AuthSettings ------------------------------------------------------------


def test_the_secret_file_holds_the_current_then_the_previous_secret(tmp_path):
    assert read_secret_file(secret_file(tmp_path, SECRET, PREVIOUS)) == (SECRET, PREVIOUS)
    assert read_secret_file(secret_file(tmp_path, SECRET)) == (SECRET,)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "holds no secret"),
        (b"\n\n", "holds no secret"),
        (b"short\n", "line 1 is 5 bytes"),
        (SECRET + b"\n" + b"x" * 10, "line 2 is 10 bytes"),
        (SECRET + b"\n" + PREVIOUS + b"\n" + OTHER, "got 3 lines"),
        (b"\xff" * 40, "not UTF-8"),
    ],
)
def test_a_bad_secret_file_names_the_variable(tmp_path, content, problem):
    path = tmp_path / "secret"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=problem) as error:
        AuthSettings.from_env({"WSRELAY_AUTH_SECRET_FILE": str(path)})
    assert "WSRELAY_AUTH_SECRET_FILE" in str(error.value)


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({}, r"WSRELAY_AUTH_SECRET_ARN must name the Secrets Manager secret \(or WSRELAY_AUTH_SECRET_FILE"),
        (
            {"WSRELAY_AUTH_SECRET_FILE": "/nonexistent/secret"},
            "WSRELAY_AUTH_SECRET_FILE /nonexistent/secret: no such file",
        ),
        ({"WSRELAY_AUTH_MODE": "lenient"}, "WSRELAY_AUTH_MODE must be one of enforce, permissive"),
        ({"WSRELAY_AUTH_LEEWAY_SECONDS": "five"}, "WSRELAY_AUTH_LEEWAY_SECONDS must be a whole number"),
        ({"WSRELAY_AUTH_LEEWAY_SECONDS": "3601"}, "WSRELAY_AUTH_LEEWAY_SECONDS must be between 0 and 300"),
    ],
)
def test_bad_variables_are_named(tmp_path, env, problem):
    base = (
        {"WSRELAY_AUTH_SECRET_FILE": str(secret_file(tmp_path))}
        if "WSRELAY_AUTH_SECRET_FILE" not in env
        else {}
    )
    if env == {}:
        base = {}
    with pytest.raises(ConfigError, match=problem):
        AuthSettings.from_env({**base, **env})


def test_defaults_and_the_environment_both_ways(tmp_path):
    path = secret_file(tmp_path, SECRET, PREVIOUS)
    settings = AuthSettings.from_env({"WSRELAY_AUTH_SECRET_FILE": str(path)})
    assert (settings.mode, settings.leeway_seconds, settings.secrets) == ("enforce", 5, (SECRET, PREVIOUS))
    custom = AuthSettings.from_env(
        {
            "WSRELAY_AUTH_SECRET_FILE": str(path),
            "WSRELAY_AUTH_MODE": "Permissive",
            "WSRELAY_AUTH_LEEWAY_SECONDS": "0",
        }
    )
    assert (custom.mode, custom.leeway_seconds) == ("permissive", 0)
    assert AuthSettings.from_env(custom.to_env()) == custom
    assert str(SECRET) not in repr(custom) and SECRET.decode() not in str(custom.to_env())


def test_the_secret_source_is_a_seam():
    settings = AuthSettings.from_env({}, source=lambda env: (SECRET,))
    assert settings.secrets == (SECRET,) and settings.secret_file is None
