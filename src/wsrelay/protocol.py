"""The events wire protocol: client frames in, commands out; replies in, frames out.

Pure and I/O-free. `parse_frame` turns one WebSocket text frame, exactly as a router or worker
sends it, into one of the command classes below; the `*_frame` builders produce every frame the
relay sends back. Compatibility rules (see docs/protocol.md):

- a frame is "text" unless it starts with ``{``; the guid of ``subscribe: ``, ``unsubscribe: ``
  and ``ack: `` is everything after the prefix, untrimmed;
- a result is relayed verbatim (`Publish.raw`), never re-serialized;
- new text replies start with ``error:`` and contain no braces or brackets (the router parses
  every frame as JSON and raises on a non-JSON frame holding ``{`` or ``[``);
- the ack is byte-identical to JavaScript's ``JSON.stringify`` of
  ``{type, guid, acknowledgedBy}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from json.encoder import encode_basestring as _json_string

SUBSCRIBE_PREFIX = "subscribe: "
UNSUBSCRIBE_PREFIX = "unsubscribe: "
ACK_PREFIX = "ack: "
PING = "ping"

PONG = "pong"
UNKNOWN_TEXT = "unknown text message"
UNKNOWN_OBJECT = "unknown object message"

# The ``acknowledgedBy`` of an ack the relay sends itself once a result is stored
# (``publisher_ack=stored``): not a connection id (API Gateway's never contain ``:``), so a
# client can tell a stored ack from a subscriber's.
STORED_ACKNOWLEDGER = "wsrelay:stored"

GUID_MAX_LENGTH = 128
_GUID_RE = re.compile(r"[A-Za-z0-9._:-]{1,128}")
_FORBIDDEN_IN_TEXT = str.maketrans({"{": "(", "}": ")", "[": "(", "]": ")"})


def is_valid_guid(guid: object) -> bool:
    """True when `guid` is a string of 1..128 characters from ``[A-Za-z0-9._:-]``."""
    return isinstance(guid, str) and _GUID_RE.fullmatch(guid) is not None


@dataclass(frozen=True, slots=True)
class Subscribe:
    """``subscribe: <guid>``: deliver results for `guid` to this connection."""

    guid: str


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    """``unsubscribe: <guid>``: stop delivering `guid` to this connection."""

    guid: str


@dataclass(frozen=True, slots=True)
class Acknowledge:
    """``ack: <guid>``: the subscriber got the result; tell every publisher of `guid`."""

    guid: str


@dataclass(frozen=True, slots=True)
class Ping:
    """``ping``: application-level liveness check, answered with ``pong``."""


@dataclass(frozen=True, slots=True)
class Publish:
    """A JSON object with a top-level ``guid``: relay `raw` byte for byte to subscribers."""

    guid: str
    raw: str


@dataclass(frozen=True, slots=True)
class UnknownText:
    """Any other text frame (not starting with ``{``); answered ``unknown text message``."""

    text: str


@dataclass(frozen=True, slots=True)
class UnknownObject:
    """A JSON object without a top-level ``guid``; answered ``unknown object message``."""


@dataclass(frozen=True, slots=True)
class Malformed:
    """A frame the relay refuses; answered with `error_frame(reason)`, nothing changes."""

    reason: str


Command = Subscribe | Unsubscribe | Acknowledge | Ping | Publish | UnknownText | UnknownObject | Malformed

_GUID_COMMANDS: tuple[tuple[str, type[Subscribe] | type[Unsubscribe] | type[Acknowledge]], ...] = (
    (SUBSCRIBE_PREFIX, Subscribe),
    (UNSUBSCRIBE_PREFIX, Unsubscribe),
    (ACK_PREFIX, Acknowledge),
)


def parse_frame(text: str) -> Command:
    """Classify one client text frame. Never raises."""
    if not text.startswith("{"):
        return _parse_text(text)
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        return Malformed("frame starts with a brace but is not valid JSON")
    # A text starting with "{" that json accepts is an object: json rejects trailing data.
    if "guid" not in document:
        return UnknownObject()
    guid = document["guid"]
    if not is_valid_guid(guid):
        return Malformed(_invalid_guid_reason("result"))
    return Publish(guid=guid, raw=text)


def _parse_text(text: str) -> Command:
    if text == PING:
        return Ping()
    for prefix, command in _GUID_COMMANDS:
        if text.startswith(prefix):
            guid = text[len(prefix) :]
            if not is_valid_guid(guid):
                return Malformed(_invalid_guid_reason(prefix.rstrip(": ")))
            return command(guid)
    return UnknownText(text)


def _invalid_guid_reason(where: str) -> str:
    return (
        f"invalid guid in {where}: expected 1 to {GUID_MAX_LENGTH} characters "
        "of letters, digits, dot, underscore, colon or hyphen"
    )


def ack_frame(guid: str, acknowledged_by: str) -> str:
    """The ack sent to a publisher, as JavaScript's ``JSON.stringify`` writes it.

    Composed with json's own string escaping (``ensure_ascii=False``, like JavaScript): the
    same text as ``json.dumps`` of the dict with compact separators, without building a dict and
    running the general encoder on every ack (docs/benchmarks.md has the measurement).
    """
    return f'{{"type":"ack","guid":{_json_string(guid)},"acknowledgedBy":{_json_string(acknowledged_by)}}}'


def error_frame(reason: str) -> str:
    """A text reply starting ``error:`` that the router can ignore safely (no braces/brackets)."""
    return "error: " + reason.translate(_FORBIDDEN_IN_TEXT)
