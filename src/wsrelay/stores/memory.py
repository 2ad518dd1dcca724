"""An in-memory `Store`: every guid's channel in a dict, no I/O, the time passed in.

What `wsrelay simulate` runs the product's `wsrelay.relay.Relay` over, on the simulation's
clock: every method takes `now` from its caller (the Store protocol), so simulated seconds work
as well as the epoch. The rules are the SQLite stores' own operations (`SqliteRowStore` in
`wsrelay.stores.sqlite_rows`, the DynamoDB item of docs/storage.md) over rows kept in a dict, and
tests/test_store_contract.py holds it to them:

- one channel per guid, changed by one atomic step per operation (a lock: the contract suite
  calls it from threads; the simulation, from one);
- every write sets the channel's expiry to `now` + `ttl_seconds`; a channel past its expiry is
  absent to every operation (DynamoDB's TTL, whose deletion is late, behaves the same to a
  reader that filters on it), and `expire` forgets expired channels so that memory stays bounded.
"""

from __future__ import annotations

import contextlib
import heapq
import threading
from collections.abc import Iterator

from wsrelay.stores.sqlite_rows import Record, SqliteRowStore


class MemoryStore(SqliteRowStore):
    """The `Store` port in process memory (shared by every caller holding this instance)."""

    def __init__(self, ttl_seconds: float) -> None:
        if ttl_seconds <= 0:
            raise ValueError(f"ttl_seconds must be positive, got {ttl_seconds}")
        super().__init__(ttl_seconds)
        self._rows: dict[str, Record] = {}
        # (expires_at when queued, guid): a row renewed since is found newer and skipped
        self._expiry: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Channels held, expired or not (what `expire` bounds)."""
        return len(self._rows)

    @contextlib.contextmanager
    def _step(self) -> Iterator[None]:
        with self._lock:
            yield None

    def _load(self, db: None, guid: str) -> Record | None:
        return self._rows.get(guid)

    def _save(self, db: None, guid: str, record: Record, now: float) -> None:
        # every write renews the TTL, as DynamoDB's `SET ttl` on each UpdateItem does
        self._rows[guid] = record
        heapq.heappush(self._expiry, (record[5], guid))

    def expire(self, now: float) -> int:
        """Forget the channels expired at `now`, oldest first; how many were forgotten."""
        forgotten = 0
        with self._lock:
            while self._expiry and self._expiry[0][0] < now:
                expires_at, guid = heapq.heappop(self._expiry)
                record = self._rows.get(guid)
                if record is not None and record[5] == expires_at:
                    del self._rows[guid]
                    forgotten += 1
        return forgotten
