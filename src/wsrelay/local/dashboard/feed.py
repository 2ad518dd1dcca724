"""The dashboard's event feed: what the gateway did, recorded cheaply in a bounded ring, and
sent to the open pages as server-sent events, coalesced.

Recording appends one tuple to a ring of `RING_SIZE` events (plus a counter or two), so a
gateway with ``--dashboard`` and no page open does about the work it does without
(docs/benchmarks.md). With a page open, a pump wakes every `INTERVAL_S`, turns the events
recorded since its last pass into dicts (only the newest `BATCH_CAP` when there are more, so
the stream's cost does not grow with the message rate) and writes them as one ``data:`` line,
a JSON array, to every stream. A stream whose transport holds more than `STREAM_BUFFER_LIMIT`
bytes unsent is dropped: a slow page is never buffered without limit. The event schema is in
docs/dashboard.md; `as_dict` is its one definition.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections import defaultdict, deque
from collections.abc import Iterable
from itertools import islice
from typing import Any, Protocol

from wsrelay.local.runtimes.base import Failure, Invocation

RING_SIZE = 4096
BATCH_CAP = 250  # 1,666 events/s: every event of ~250 relay cycles/s; the newest beyond that
INTERVAL_S = 0.15  # the issue allows 100-250 ms: a page sees events within a frame or two
STREAM_BUFFER_LIMIT = 1024 * 1024

_GUID_TEXT = re.compile(r'"guid"\s*:\s*"([A-Za-z0-9._:-]{1,128})"')
_GUID_BYTES = re.compile(rb'"guid"\s*:\s*"([A-Za-z0-9._:-]{1,128})"')
_ACKED_BY = re.compile(rb'"acknowledgedBy"\s*:\s*"([^"]{1,256})"')
_COMMANDS = (("subscribe: ", "subscribe"), ("unsubscribe: ", "unsubscribe"), ("ack: ", "ack"))


def frame_of(body: str) -> tuple[str, str | None]:
    """(frame kind, guid) of a client's text message as the relay's protocol reads it, cheaply:
    ``publish`` for a JSON object that names a guid (found, not parsed: a result may be 128 KB).
    Kinds: subscribe, unsubscribe, ack, publish, ping, other."""
    if body.startswith("{"):
        found = _GUID_TEXT.search(body, max(0, body.find('"guid"')))
        return ("publish", found.group(1)) if found else ("other", None)
    for prefix, kind in _COMMANDS:
        if body.startswith(prefix):
            return kind, body[len(prefix) : len(prefix) + 128]
    return ("ping", None) if body == "ping" else ("other", None)


def post_of(data: bytes) -> tuple[str, str | None, str | None]:
    """(what, guid, acknowledgedBy) of a post: ``ack`` (the relay's ack to a publisher),
    ``result`` (a JSON object naming a guid) or ``text``."""
    if data.startswith(b'{"type":"ack"'):
        guid, by = _GUID_BYTES.search(data), _ACKED_BY.search(data)
        return "ack", guid and guid.group(1).decode(), by and by.group(1).decode()
    if data.startswith(b"{"):
        found = _GUID_BYTES.search(data, max(0, data.find(b'"guid"')))
        if found:
            return "result", found.group(1).decode(), None
    return "text", None, None


# One recorded event: (kind, t, connection id, *what the kind records). Invocations and posts
# keep their message (up to `LAZY_LIMIT` bytes; a longer one is read at once) and are read when
# a page needs them: with no page open, recording is a tuple and an append. A tuple holds only
# strings, numbers and None, so the garbage collector stops tracking it: a ring of tracked
# tuples would lengthen every collection the gateway's allocations trigger.
Event = tuple[Any, ...]
LAZY_LIMIT = 1024
_FIELDS = {
    "connect": ("ordinal", "role", "sourceIp"),
    "disconnect": ("code", "reason"),
    "fault": ("name",),
}


def outcome_of(status: int | None, failure: str | None) -> str:
    """How an invocation ended, in one word: ok, error, throttled, timeout (`failure` is a
    `Failure`'s value)."""
    if failure is not None:
        return failure if failure in (Failure.THROTTLED.value, Failure.TIMEOUT.value) else "error"
    return "error" if (status or 200) >= 500 else "ok"


def _invocation(document: dict[str, Any], values: list[Any]) -> None:
    route, status, failure, duration_ms, cold, body = values
    # dated when it started, so that the posts it made sort after it
    document["t"] -= duration_ms / 1000
    document["route"] = route
    document["outcome"] = outcome_of(status, failure)
    if status is not None:
        document["status"] = status
    document["durationMs"] = duration_ms
    document["coldStart"] = cold
    if body is not None:
        frame, guid = frame_of(body) if isinstance(body, str) else body
        document["frame"] = frame
        if guid is not None:
            document["guid"] = guid


def _post(document: dict[str, Any], values: list[Any]) -> None:
    status, data, size = values
    what, guid, by = post_of(data) if isinstance(data, bytes) else data
    document["status"] = status
    document["what"] = what
    if guid is not None:
        document["guid"] = guid
    if by is not None:
        document["acknowledgedBy"] = by
    document["bytes"] = size


def as_dict(event: Event) -> dict[str, Any]:
    """An event as the stream sends it: ``kind``, ``t``, ``connectionId`` and its kind's fields
    (a field without a value left out). docs/dashboard.md documents them; this is their one
    definition. Numbers go out unrounded: rounding costs more than the bytes it saves."""
    kind, t, connection_id, *values = event
    document: dict[str, Any] = {"kind": kind, "t": t, "connectionId": connection_id}
    if kind == "invocation":
        _invocation(document, values)
    elif kind == "post":
        _post(document, values)
    else:
        for name, value in zip(_FIELDS[kind], values, strict=True):
            if value is not None:
                document[name] = value
    return document


def batch_line(events: Iterable[Event]) -> bytes:
    """One server-sent event: a ``data:`` line holding the JSON array of `events`."""
    return b"data: " + json.dumps([as_dict(e) for e in events], separators=(",", ":")).encode() + b"\n\n"


class Stream(Protocol):
    """One open page's event stream (`wsrelay.local.dashboard.routes` writes it over HTTP)."""

    def send(self, payload: bytes) -> None:
        """Queue `payload` on the connection."""
        ...

    def pending(self) -> int:
        """Bytes queued and not yet sent."""
        ...

    def drop(self) -> None:
        """Abort the connection: the page is too slow."""
        ...


class Feed:
    """The ring, the per-connection traffic counters, and the open streams with their pump."""

    def __init__(
        self, ring_size: int = RING_SIZE, batch_cap: int = BATCH_CAP, interval_s: float = INTERVAL_S
    ) -> None:
        self.ring: deque[Event] = deque(maxlen=ring_size)
        self.batch_cap = batch_cap
        self.interval_s = interval_s
        self.recorded = 0  # events ever recorded
        self.flushed = 0  # events recorded before the pump's last pass
        self.overflowed = 0  # recorded but never sent: more than a batch (or the ring) held
        self.streams: list[Stream] = []
        self.streams_dropped = 0
        self.flush_cpu_s = 0.0  # CPU time of the pump's passes: the streams' own cost, measured
        self.faults_seen: dict[str, int] = defaultdict(int)
        self.cold_starts: dict[str, int] = defaultdict(int)
        # connection id -> [messages in, messages out]: counted here, where the events pass
        self.traffic: dict[str, list[int]] = {}
        self.ids_by_ordinal: dict[int, str] = {}
        self._pump: asyncio.Task[None] | None = None

    # -- recording (the gateway's hot path: one tuple, one append) -----------------------------

    def _record(self, event: Event) -> None:
        self.ring.append(event)
        self.recorded += 1

    def connect(self, connection_id: str, ordinal: int, role: str | None, source_ip: str) -> None:
        self.traffic[connection_id] = [0, 0]
        self.ids_by_ordinal[ordinal] = connection_id
        self._record(("connect", time.time(), connection_id, ordinal, role, source_ip))

    def disconnect(self, connection_id: str, code: int, reason: str) -> None:
        self.traffic.pop(connection_id, None)
        self._record(("disconnect", time.time(), connection_id, code, reason))

    def invocation(self, connection_id: str, route: str, invocation: Invocation, body: str | None) -> None:
        """An invocation that ended now. `body` is a message's text (None for $connect,
        $disconnect, a binary message)."""
        if body is not None:
            counts = self.traffic.get(connection_id)
            if counts is not None:
                counts[0] += 1
            if len(body) > LAZY_LIMIT:
                body = frame_of(body)  # type: ignore[assignment]  # read now: the ring keeps no large message
        cold = invocation.cold_start
        if cold:
            self.cold_starts[route] += 1
        failure = invocation.failure
        self._record(
            (
                "invocation",
                time.time(),
                connection_id,
                route,
                invocation.status_code,
                None if failure is None else failure.value,
                invocation.duration_ms,
                cold,
                body,
            )
        )

    def post(self, connection_id: str, data: bytes, status: int) -> None:
        if status == 200:
            counts = self.traffic.get(connection_id)
            if counts is not None:
                counts[1] += 1
        kept: Any = data if len(data) <= LAZY_LIMIT else post_of(data)
        self._record(("post", time.time(), connection_id, status, kept, len(data)))

    def fault(self, ordinal: int, name: str) -> None:
        """A fault injected on the `ordinal`-th connection."""
        self.faults_seen[name] += 1
        self._record(("fault", time.time(), self.ids_by_ordinal.get(ordinal), name))

    def forget_ordinal(self, ordinal: int) -> None:
        """The connection's close was decided: its ordinal names no fault any more."""
        self.ids_by_ordinal.pop(ordinal, None)

    # -- streaming ------------------------------------------------------------------------------

    def attach(self, stream: Stream) -> None:
        """Send `stream` the ring's events already sent to the others (in batches of the cap),
        then every batch from now on; the pump runs while a stream is attached."""
        if self._pump is None:
            self.flushed = self.recorded  # nobody was listening: the whole ring is history
        history = list(islice(self.ring, 0, len(self.ring) - min(len(self.ring), self.unflushed)))
        for start in range(0, len(history), self.batch_cap):
            stream.send(batch_line(history[start : start + self.batch_cap]))
        self.streams.append(stream)
        if self._pump is None:
            self._pump = asyncio.get_running_loop().create_task(self._run())

    def detach(self, stream: Stream) -> None:
        with contextlib.suppress(ValueError):
            self.streams.remove(stream)

    @property
    def unflushed(self) -> int:
        return self.recorded - self.flushed

    def flush(self) -> None:
        """One pass of the pump: the events since the last pass, at most the cap of them (the
        newest), as one batch to every stream; a stream too far behind is dropped."""
        fresh = self.unflushed
        self.flushed = self.recorded
        if not fresh or not self.streams:
            return
        started = time.thread_time()
        take = min(fresh, len(self.ring), self.batch_cap)
        self.overflowed += fresh - take
        newest = list(islice(reversed(self.ring), take))
        newest.reverse()
        line = batch_line(newest)
        for stream in list(self.streams):
            if stream.pending() > STREAM_BUFFER_LIMIT:
                self.detach(stream)
                self.streams_dropped += 1
                stream.drop()
            else:
                stream.send(line)
        self.flush_cpu_s += time.thread_time() - started

    async def _run(self) -> None:
        try:
            while self.streams:
                await asyncio.sleep(self.interval_s)
                self.flush()
        finally:
            self._pump = None

    def close(self) -> None:
        """Stop the pump and drop every stream (the gateway is stopping)."""
        for stream in list(self.streams):
            self.detach(stream)
            stream.drop()
        if self._pump is not None:
            self._pump.cancel()

    def describe(self) -> dict[str, Any]:
        """The feed's own figures, for the state document."""
        return {
            "recorded": self.recorded,
            "ring": self.ring.maxlen,
            "batchCap": self.batch_cap,
            "intervalMs": round(self.interval_s * 1000),
            "streams": len(self.streams),
            "streamsDropped": self.streams_dropped,
            "overflowed": self.overflowed,
            "streamCpuMs": round(self.flush_cpu_s * 1000, 3),
        }
