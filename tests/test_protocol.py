"""Every row of the protocol tables, plus property tests of the frame parser."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wsrelay import protocol as p

guids = st.from_regex(r"[A-Za-z0-9._:-]{1,128}", fullmatch=True)


@pytest.mark.parametrize(
    ("frame", "expected"),
    [
        ("subscribe: abc-1", p.Subscribe("abc-1")),
        ("unsubscribe: abc-1", p.Unsubscribe("abc-1")),
        ("ack: abc-1", p.Acknowledge("abc-1")),
        ("ping", p.Ping()),
        ("hello", p.UnknownText("hello")),
        ("subscribe:abc", p.UnknownText("subscribe:abc")),
        ("PING", p.UnknownText("PING")),
        ("[1, 2]", p.UnknownText("[1, 2]")),
        (' {"guid":"g"}', p.UnknownText(' {"guid":"g"}')),
        ('{"type":"x"}', p.UnknownObject()),
        ('{"guid":"g-1","code":0}', p.Publish("g-1", '{"guid":"g-1","code":0}')),
    ],
)
def test_table_rows(frame, expected):
    assert p.parse_frame(frame) == expected


def test_guid_is_everything_after_the_prefix_untrimmed():
    # A trailing space is part of the guid, which then fails validation instead of being trimmed.
    assert isinstance(p.parse_frame("subscribe: abc "), p.Malformed)
    assert p.parse_frame("subscribe: a:b.c_d-e") == p.Subscribe("a:b.c_d-e")


@pytest.mark.parametrize(
    "frame",
    ["subscribe: ", "ack: a/b", "unsubscribe: " + "x" * 129, 'subscribe: {"x"}', "ack:  g"],
)
def test_invalid_guid_in_text_commands(frame):
    command = p.parse_frame(frame)
    assert isinstance(command, p.Malformed)
    reply = p.error_frame(command.reason)
    assert reply.startswith("error:")
    assert not set(reply) & set("{}[]")


@pytest.mark.parametrize("frame", ['{"guid": 5}', '{"guid": ""}', '{"guid": "a b"}', '{"guid": null}'])
def test_invalid_guid_in_result(frame):
    assert isinstance(p.parse_frame(frame), p.Malformed)


@pytest.mark.parametrize("frame", ["{", "{not json", '{"guid":"g"', '{"a":1} trailing'])
def test_brace_but_not_json_is_malformed(frame):
    command = p.parse_frame(frame)
    assert isinstance(command, p.Malformed)
    assert "not valid JSON" in command.reason


def test_ack_frame_matches_javascript_json_stringify():
    assert (
        p.ack_frame("job-42", "L0SM9cOFvHcCIhw=")
        == '{"type":"ack","guid":"job-42","acknowledgedBy":"L0SM9cOFvHcCIhw="}'
    )


def test_fixed_replies():
    assert (p.PONG, p.UNKNOWN_TEXT, p.UNKNOWN_OBJECT) == (
        "pong",
        "unknown text message",
        "unknown object message",
    )


def test_error_frame_strips_braces_and_brackets():
    assert p.error_frame("bad {x} [y]") == "error: bad (x) (y)"


def expected_kind(text: str) -> type:
    """The command a frame must parse to, decided independently of the parser (the protocol's
    rules written out directly: docs/protocol.md)."""
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except (ValueError, RecursionError):
            return p.Malformed
        if "guid" not in document:
            return p.UnknownObject
        return p.Publish if p.is_valid_guid(document["guid"]) else p.Malformed
    if text == "ping":
        return p.Ping
    for prefix, kind in (
        ("subscribe: ", p.Subscribe),
        ("unsubscribe: ", p.Unsubscribe),
        ("ack: ", p.Acknowledge),
    ):
        if text.startswith(prefix):
            return kind if p.is_valid_guid(text[len(prefix) :]) else p.Malformed
    return p.UnknownText


frames = st.one_of(
    st.text(),
    st.builds(lambda prefix, rest: prefix + rest, st.sampled_from(["subscribe: ", "ack: ", "{"]), st.text()),
    st.builds(lambda guid: json.dumps({"guid": guid}), st.one_of(guids, st.text())),
)


@given(frames)
def test_parser_never_raises_and_classifies_every_frame(text):
    assert type(p.parse_frame(text)) is expected_kind(text)


@given(guids, st.sampled_from(["subscribe: ", "unsubscribe: ", "ack: "]))
def test_text_commands_round_trip(guid, prefix):
    command = p.parse_frame(prefix + guid)
    assert command.guid == guid


@given(
    guids,
    st.dictionaries(
        st.text(max_size=8).filter(lambda k: k != "guid"),
        st.integers() | st.text(max_size=20),
        max_size=5,
    ),
)
def test_results_are_relayed_verbatim(guid, extra):
    raw = json.dumps({**extra, "guid": guid}, indent=1)
    assert p.parse_frame(raw) == p.Publish(guid, raw)


@given(st.text())
def test_error_replies_are_always_safe_for_the_router(reason):
    assert not set(p.error_frame(reason)) & set("{}[]")


@given(guids, st.from_regex(r"[A-Za-z0-9+/=]{16}", fullmatch=True))
def test_ack_frame_is_compact_and_ordered(guid, connection_id):
    frame = p.ack_frame(guid, connection_id)
    assert list(json.loads(frame)) == ["type", "guid", "acknowledgedBy"]
    assert frame == json.dumps(json.loads(frame), separators=(",", ":"))
