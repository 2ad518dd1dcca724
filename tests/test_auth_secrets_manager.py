"""The authorizer's Secrets Manager source, against moto's server: ``AWSCURRENT`` and
``AWSPREVIOUS`` both accepted during a rotation, the previous refused once removed, the cache
(one refresh per TTL), and a secret that cannot be read gives one clear log line and a Deny."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from auth_support import PREVIOUS, SECRET, authorizer_event, token

import wsrelay.auth
from wsrelay.auth import Authorizer, AuthSettings
from wsrelay.auth.authorizer import AUTHORIZER_SECRET_UNAVAILABLE
from wsrelay.auth.secrets import SecretsManagerSecrets, SecretUnavailable
from wsrelay.config import ConfigError


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(moto_endpoint):
    return boto3.client("secretsmanager", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def secret(client) -> str:
    """A fresh secret whose AWSCURRENT is SECRET; its ARN."""
    created = client.create_secret(Name=f"wsrelay-auth-{uuid.uuid4().hex[:8]}", SecretString=SECRET.decode())
    return created["ARN"]


def authorizer_on(client, secret_id: str, clock: Clock, ttl_s: float = 60, mode: str = "enforce"):
    source = SecretsManagerSecrets(secret_id, ttl_s, client=lambda: client, clock=clock)
    settings = AuthSettings((), mode, 5, secret_arn=secret_id, secret_ttl_seconds=int(ttl_s))
    lines: list[dict] = []
    return Authorizer(settings, lambda line: lines.append(json.loads(line)), secrets=source), source, lines


def effect(response: dict) -> str:
    return response["policyDocument"]["Statement"][0]["Effect"]


def rotate(client, secret_id: str, new: bytes) -> None:
    """What the runbook's rotation does: the new value becomes AWSCURRENT, and Secrets Manager
    moves AWSPREVIOUS to the version that was current."""
    client.put_secret_value(SecretId=secret_id, SecretString=new.decode())


def remove_previous(client, secret_id: str) -> None:
    """The end of a rotation: the AWSPREVIOUS label taken off the old version."""
    versions = client.list_secret_version_ids(SecretId=secret_id)["Versions"]
    [old] = [v["VersionId"] for v in versions if "AWSPREVIOUS" in v.get("VersionStages", [])]
    client.update_secret_version_stage(
        SecretId=secret_id, VersionStage="AWSPREVIOUS", RemoveFromVersionId=old
    )


def test_a_rotation_accepts_the_previous_secret_until_it_is_removed(client, secret):
    clock = Clock()
    authorize, _source, _ = authorizer_on(client, secret, clock)
    old_token = token(secret=SECRET)
    assert effect(authorize(authorizer_event(old_token), None)) == "Allow"

    rotate(client, secret, PREVIOUS)  # PREVIOUS (the bytes) is now current, SECRET previous
    clock.now += 61  # one TTL later every authorizer process has read both versions
    new_token = token(secret=PREVIOUS)
    assert effect(authorize(authorizer_event(new_token), None)) == "Allow"
    assert effect(authorize(authorizer_event(old_token), None)) == "Allow"  # no downtime

    remove_previous(client, secret)
    clock.now += 61
    assert effect(authorize(authorizer_event(old_token), None)) == "Deny"
    assert effect(authorize(authorizer_event(new_token), None)) == "Allow"


def test_the_secrets_are_cached_for_the_ttl(client, secret):
    clock = Clock()
    authorize, source, _ = authorizer_on(client, secret, clock, ttl_s=60)
    for _ in range(5):
        authorize(authorizer_event(token()), None)
    assert source.reads == 1
    rotate(client, secret, PREVIOUS)
    clock.now += 59  # still within the TTL: the old read stands, a new-secret token waits
    assert effect(authorize(authorizer_event(token(secret=PREVIOUS)), None)) == "Deny"
    clock.now += 2
    assert effect(authorize(authorizer_event(token(secret=PREVIOUS)), None)) == "Allow"
    assert source.reads == 2
    # A connection without a token never costs a read.
    authorize(authorizer_event(None), None)
    assert source.reads == 2


@pytest.mark.parametrize("mode", ["enforce", "permissive"])
def test_an_unreadable_secret_denies_with_one_clear_log_line(client, mode):
    missing = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-{uuid.uuid4().hex[:6]}"
    authorize, _, lines = authorizer_on(client, missing, Clock(), mode=mode)
    response = authorize(authorizer_event(token()), None)
    assert effect(response) == "Deny" and "context" not in response
    [line] = lines
    assert line["level"] == "ERROR" and line["outcome"] == "secret_unavailable"
    assert line[AUTHORIZER_SECRET_UNAVAILABLE] == 1 and line["AuthorizerDenied"] == 1
    [note] = line["notes"]
    assert missing in note and "ResourceNotFoundException" in note
    assert SECRET.decode() not in json.dumps(line)


def test_a_secret_without_a_current_value_or_too_short_is_unavailable(client):
    empty = client.create_secret(Name=f"wsrelay-empty-{uuid.uuid4().hex[:8]}")["ARN"]
    unreadable = r"\(AWSCURRENT\) cannot be read: ResourceNotFoundException.*put-secret-value"
    with pytest.raises(SecretUnavailable, match=unreadable):
        SecretsManagerSecrets(empty, 60, client=lambda: client)()
    short = client.create_secret(Name=f"wsrelay-short-{uuid.uuid4().hex[:8]}", SecretString="short")["ARN"]
    with pytest.raises(SecretUnavailable, match="is 5 bytes; HS256 needs at least 32"):
        SecretsManagerSecrets(short, 60, client=lambda: client)()


def test_a_failed_read_is_not_cached(client):
    name = f"wsrelay-later-{uuid.uuid4().hex[:8]}"
    source = SecretsManagerSecrets(name, 60, client=lambda: client, clock=Clock())
    with pytest.raises(SecretUnavailable):
        source()
    client.create_secret(Name=name, SecretString=SECRET.decode())
    assert source() == (SECRET,)  # the next connection reads again, without waiting a TTL


def test_unreachable_secrets_manager_is_one_line():
    unreachable = boto3.client(
        "secretsmanager",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        config=boto3.session.Config(connect_timeout=0.5, retries={"total_max_attempts": 1}),
    )
    with pytest.raises(SecretUnavailable, match="Secrets Manager unreachable") as raised:
        SecretsManagerSecrets("s", 60, client=lambda: unreachable)()
    assert "\n" not in str(raised.value)


def test_the_lambda_face_reads_the_secret_its_environment_names(moto_endpoint, secret, monkeypatch, capsys):
    monkeypatch.setenv("WSRELAY_AUTH_SECRET_ARN", secret)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.delenv("WSRELAY_AUTH_SECRET_FILE", raising=False)
    wsrelay.auth._authorizer.cache_clear()
    try:
        allowed = wsrelay.auth.handler(authorizer_event(token("publisher")), None)
        refused = wsrelay.auth.handler(authorizer_event(token(secret=b"x" * 48)), None)
    finally:
        wsrelay.auth._authorizer.cache_clear()
    assert allowed["context"]["role"] == "publisher" and effect(refused) == "Deny"
    outcomes = [json.loads(line)["outcome"] for line in capsys.readouterr().out.splitlines()]
    assert outcomes == ["allowed", "denied"]


# -- the settings -------------------------------------------------------------------------------


def test_the_settings_name_the_secret_and_its_ttl_both_ways():
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:events-wsrelay-auth-AbCdEf"
    env = {"WSRELAY_AUTH_SECRET_ARN": arn, "WSRELAY_AUTH_SECRET_TTL_SECONDS": "30"}
    settings = AuthSettings.from_env(env)
    assert (settings.secret_arn, settings.secret_ttl_seconds, settings.secrets) == (arn, 30, ())
    assert AuthSettings.from_env(settings.to_env()) == settings
    source = settings.secret_source()
    assert isinstance(source, SecretsManagerSecrets) and (source.secret_id, source.ttl_s) == (arn, 30)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "WSRELAY_AUTH_SECRET_ARN must name the Secrets Manager secret"),
        (
            {"WSRELAY_AUTH_SECRET_ARN": "a", "WSRELAY_AUTH_SECRET_FILE": "/f"},
            "set one of WSRELAY_AUTH_SECRET_ARN and WSRELAY_AUTH_SECRET_FILE",
        ),
        ({"WSRELAY_AUTH_SECRET_ARN": "a b"}, "must be a Secrets Manager secret ARN or name"),
        ({"WSRELAY_AUTH_SECRET_ARN": "a", "WSRELAY_AUTH_SECRET_TTL_SECONDS": "0"}, "between 1 and 900"),
        ({"WSRELAY_AUTH_SECRET_ARN": "a", "WSRELAY_AUTH_SECRET_TTL_SECONDS": "901"}, "between 1 and 900"),
        ({"WSRELAY_AUTH_SECRET_ARN": "a", "WSRELAY_AUTH_SECRET_TTL_SECONDS": "1m"}, "whole number"),
    ],
)
def test_bad_settings_name_the_variable(env, message):
    with pytest.raises(ConfigError, match=message):
        AuthSettings.from_env(env)
