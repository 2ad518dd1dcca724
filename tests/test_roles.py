"""Roles enforced by the relay: every violation on every command is refused with an ``error:``
reply and no store call; permissive mode counts it and lets it through; no role (no
authorizer) changes nothing. Then the same through `RelayFunctions`, from the event's
``requestContext.authorizer``."""

from __future__ import annotations

import json

import pytest
from relay_support import RESULT, Clock, ScriptedOutbound

from wsrelay import relay as r
from wsrelay.functions import authorized_role
from wsrelay.relay import Relay
from wsrelay.stores.sqlite_shared import SharedSqliteStore

FRAMES = {
    "subscribe": "subscribe: job-1",
    "unsubscribe": "unsubscribe: job-1",
    "ack": "ack: job-1",
    "publish": RESULT,
}
# Who may send what: the role's own commands, and ping and non-commands need no role.
VIOLATIONS = [
    ("publisher", "subscribe"),
    ("publisher", "unsubscribe"),
    ("publisher", "ack"),
    ("subscriber", "publish"),
]
ALLOWED = [
    ("publisher", "publish"),
    ("subscriber", "subscribe"),
    ("subscriber", "unsubscribe"),
    ("subscriber", "ack"),
    *[("both", command) for command in FRAMES],
    *[(None, command) for command in FRAMES],
]


class RecordingStore:
    """The real store, with every call recorded."""

    def __init__(self, store):
        self.store = store
        self.calls: list[str] = []

    def __getattr__(self, name):
        method = getattr(self.store, name)

        def call(*args, **kwargs):
            self.calls.append(name)
            return method(*args, **kwargs)

        return call


@pytest.fixture
def make_relay(tmp_path):
    store = RecordingStore(SharedSqliteStore(tmp_path / "relay.db", ttl_seconds=600))
    out = ScriptedOutbound()

    def make(role, enforce=True):
        return Relay(store, out, Clock(), role=role, enforce_roles=enforce), store, out

    return make


@pytest.mark.parametrize(("role", "command"), VIOLATIONS)
def test_every_violation_is_refused_and_changes_nothing(make_relay, role, command):
    relay, store, out = make_relay(role)
    outcome = relay.receive("C", FRAMES[command])
    assert outcome.outcome == "forbidden" and outcome.guid == "job-1"
    assert outcome.counts == {r.ROLE_VIOLATIONS: 1}
    assert store.calls == []  # no storage read or write
    [reply] = out.to("C")
    verb = "ack" if command == "ack" else command
    assert reply == f"error: role {role} may not {verb}"
    assert not any(c in reply for c in "{}[]")  # the router parses frames with braces as JSON


@pytest.mark.parametrize(("role", "command"), ALLOWED)
def test_allowed_commands_run(make_relay, role, command):
    relay, store, _out = make_relay(role)
    outcome = relay.receive("C", FRAMES[command])
    assert outcome.outcome != "forbidden" and r.ROLE_VIOLATIONS not in outcome.counts
    assert store.calls  # it reached the store


@pytest.mark.parametrize("role", ["publisher", "subscriber", "both", "admin", None])
@pytest.mark.parametrize("frame", ["ping", "hello", '{"x":1}', "subscribe: bad guid"])
def test_frames_that_are_no_command_need_no_role(make_relay, role, frame):
    relay, _, _out = make_relay(role)
    assert relay.receive("C", frame).outcome != "forbidden"
    assert relay.receive_binary("C").outcome == "rejected"


@pytest.mark.parametrize("command", list(FRAMES))
def test_an_unknown_role_may_send_no_command(make_relay, command):
    relay, store, _out = make_relay("admin")
    assert relay.receive("C", FRAMES[command]).outcome == "forbidden"
    assert store.calls == []


@pytest.mark.parametrize(("role", "command"), VIOLATIONS)
def test_permissive_mode_counts_the_violation_and_lets_it_through(make_relay, role, command):
    relay, store, out = make_relay(role, enforce=False)
    outcome = relay.receive("C", FRAMES[command])
    assert outcome.outcome != "forbidden"
    assert outcome.counts[r.ROLE_VIOLATIONS] == 1
    assert outcome.notes[-1] == f"role {role} may not {command}: let through (permissive mode)"
    assert store.calls
    assert not any(reply.startswith("error:") for reply in out.to("C"))


def test_a_subscriber_that_tries_to_publish_leaves_nothing_stored(make_relay):
    relay, _, out = make_relay("subscriber")
    relay.receive("R", FRAMES["publish"])
    late, _, _ = make_relay("subscriber")
    assert late.receive("R2", "subscribe: job-1").outcome == "subscribed"  # no stored result
    assert out.to("R2") == []


@pytest.mark.parametrize(
    ("request_context", "expected"),
    [
        ({}, (None, True)),
        ({"authorizer": None}, (None, True)),
        ({"authorizer": {"principalId": "p"}}, (None, True)),
        ({"authorizer": {"role": "publisher", "mode": "enforce"}}, ("publisher", True)),
        ({"authorizer": {"role": "publisher"}}, ("publisher", True)),  # no mode: enforced
        ({"authorizer": {"role": "both", "mode": "permissive", "refused": "expired"}}, ("both", False)),
    ],
)
def test_the_role_comes_from_the_authorizers_context(request_context, expected):
    assert authorized_role(request_context) == expected


# -- through the functions (the Lambda face's object) ---------------------------------------------


def event(cid: str, body: str, **authorizer: str) -> dict:
    context: dict = {"connectionId": cid, "routeKey": "$default", "requestId": "req"}
    if authorizer:
        context["authorizer"] = {"principalId": "p", **authorizer}
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def test_the_functions_enforce_the_role_of_the_event(build_functions, tmp_path, management_api, capsys):
    functions = build_functions(
        WSRELAY_SQLITE_PATH=str(tmp_path / "relay.db"), WSRELAY_MANAGEMENT_ENDPOINT=management_api.endpoint
    )
    assert functions.sendmessage(event("R=", FRAMES["publish"], role="subscriber", mode="enforce"), None) == {
        "statusCode": 200
    }
    assert management_api.delivered("R=") == ["error: role subscriber may not publish"]
    line = json.loads(capsys.readouterr().out)
    assert (line["outcome"], line["role"], line["RoleViolations"]) == ("forbidden", "subscriber", 1)
    # Without an authorizer: today's behaviour, and no role in the log line.
    functions.sendmessage(event("R=", "subscribe: job-1"), None)
    line = json.loads(capsys.readouterr().out)
    assert line["outcome"] == "subscribed" and "role" not in line
