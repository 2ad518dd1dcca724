"""An in-memory `Store`: every guid's channel in a dict, no I/O, the time passed in.

What `wsrelay simulate` runs the product's `wsrelay.relay.Relay` over, on the simulation's
clock: every method takes `now` from its caller (the Store protocol), so simulated seconds work
as well as the epoch. The rules are the other stores' (`wsrelay.stores.sqlite_rows`, the
DynamoDB item of docs/storage.md), and tests/test_store_contract.py holds it to them:

- one channel per guid, changed by one atomic step per operation (a lock: the contract suite
  calls it from threads; the simulation, from one);
- every write sets the channel's expiry to `now` + `ttl_seconds`; a channel past its expiry is
  absent to every operation (DynamoDB's TTL, whose deletion is late, behaves the same to a
  reader that filters on it), and `expire` forgets expired channels so that memory stays bounded.
"""

from __future__ import annotations

import heapq
import threading
from dataclasses import dataclass, field

from wsrelay.ports import Channel, Published


@dataclass(slots=True)
class _Row:
    """One guid's channel while it lives."""

    expires_at: float
    subscribers: set[str] = field(default_factory=set)
    publishers: set[str] = field(default_factory=set)
    result: str | None = None
    published_at: float | None = None
    acked_by: str | None = None
    store_acked: set[str] = field(default_factory=set)

    def channel(self) -> Channel:
        return Channel(
            frozenset(self.subscribers),
            frozenset(self.publishers),
            self.result,
            self.published_at,
            self.acked_by,
            frozenset(self.store_acked),
        )


class MemoryStore:
    """The `Store` port in process memory (shared by every caller holding this instance)."""

    def __init__(self, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        self.ttl_seconds = ttl_seconds
        self._rows: dict[str, _Row] = {}
        # (expires_at when queued, guid): a row renewed since is found newer and skipped
        self._expiry: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Channels held, expired or not (what `expire` bounds)."""
        return len(self._rows)

    def _live(self, guid: str, now: float) -> _Row | None:
        row = self._rows.get(guid)
        if row is None or row.expires_at < now:
            return None
        return row

    def _fresh(self, guid: str, now: float) -> _Row:
        """The live row, or a new empty one in place of an absent or expired one."""
        row = self._live(guid, now)
        if row is None:
            row = _Row(now + self.ttl_seconds)
            self._rows[guid] = row
        return row

    def _touch(self, guid: str, row: _Row, now: float) -> None:
        # every write renews the TTL, as DynamoDB's `SET ttl` on each UpdateItem does
        row.expires_at = now + self.ttl_seconds
        heapq.heappush(self._expiry, (row.expires_at, guid))

    def subscribe(self, guid: str, connection_id: str, now: float) -> Channel:
        with self._lock:
            row = self._fresh(guid, now)
            row.subscribers.add(connection_id)
            self._touch(guid, row, now)
            return row.channel()

    def unsubscribe(self, guid: str, connection_id: str, now: float) -> None:
        with self._lock:
            row = self._live(guid, now)
            if row is not None:  # an absent guid gets no channel: nothing to unsubscribe from
                row.subscribers.discard(connection_id)
                self._touch(guid, row, now)

    def publish(
        self, guid: str, connection_id: str, result: str, now: float, ack_on_store: bool = False
    ) -> Published:
        with self._lock:
            row = self._fresh(guid, now)
            if row.acked_by is not None:
                return Published(frozenset(row.subscribers), row.acked_by, resend=True)
            resend = bool(row.publishers)
            row.publishers.add(connection_id)
            if ack_on_store:
                row.store_acked.add(connection_id)
            row.result = result
            if row.published_at is None:
                row.published_at = now
            self._touch(guid, row, now)
            return Published(frozenset(row.subscribers), None, resend)

    def withhold_ack(self, guid: str, connection_id: str, now: float) -> str | None:
        with self._lock:
            row = self._live(guid, now)
            if row is None:
                return None
            row.store_acked.discard(connection_id)
            self._touch(guid, row, now)
            return row.acked_by

    def ack(self, guid: str, connection_id: str, now: float) -> Channel | None:
        with self._lock:
            row = self._live(guid, now)
            if row is None or not row.publishers:
                return None
            row.acked_by = connection_id
            row.result = None
            self._touch(guid, row, now)
            return row.channel()

    def expire(self, now: float) -> int:
        """Forget the channels expired at `now`, oldest first; how many were forgotten."""
        forgotten = 0
        with self._lock:
            while self._expiry and self._expiry[0][0] < now:
                expires_at, guid = heapq.heappop(self._expiry)
                row = self._rows.get(guid)
                if row is not None and row.expires_at == expires_at:
                    del self._rows[guid]
                    forgotten += 1
        return forgotten
