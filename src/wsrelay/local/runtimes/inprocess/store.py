"""SQLite store on a file one process owns, written behind: the local stack's ``inprocess``
runtime.

One connection in exclusive locking mode with an in-memory rollback journal, a lock instead of
transactions, and every live row held in memory (loaded at open): reads are dict lookups and the
memory is the store of record. Writes reach the file behind, coalesced: a changed row is marked
pending, and every ``flush_interval_s`` (checked on each write; the owner calls `flush` when
idle and `close` at the end) the pending rows go out in one transaction, each once whatever
number of times it changed, so the subscribe, publish, ack and unsubscribe of one guid within
the interval cost one row write. Expired rows are forgotten with each flush, from the front of
the expiry order, a bounded batch at a time: never a pass over every row on the event loop.

``synchronous=OFF``: closed or flushed, the store survives a crash of its process; a ``kill -9``
loses at most the last ``flush_interval_s`` of changes (the clients of that process lose their
connections too; workers resend unacked results when they reconnect, docs/protocol.md).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from wsrelay.stores.sqlite_rows import (
    DELETE_EXPIRED,
    DELETE_ONE,
    SELECT_ALL,
    UPSERT,
    Record,
    SqliteRowStore,
    create_schema,
)

# How long a change may stay in memory only.
FLUSH_INTERVAL_S = 0.1
# Expired rows forgotten per flush at most: far above any rate at which rows are created at ten
# flushes a second, and a bounded pause for the event loop.
PURGE_BATCH = 2000


class _Locked:
    """One atomic step: the store's lock around its one connection."""

    __slots__ = ("db", "lock")

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self.db = db
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


class OwnedSqliteStore(SqliteRowStore):
    """The `Store` port on a SQLite file this process owns, rows in memory, file written behind.

    `connect` opens the file (``sqlite3.connect`` unless a test needs a failing disk).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        ttl_seconds: int,
        *,
        flush_interval_s: float = FLUSH_INTERVAL_S,
        purge_batch: int = PURGE_BATCH,
        connect: Callable[..., sqlite3.Connection] = sqlite3.connect,
    ) -> None:
        super().__init__(ttl_seconds)
        self.path = Path(path)
        self.flush_interval_s = flush_interval_s
        self.purge_batch = purge_batch
        self._lock = threading.Lock()
        self._rows: dict[str, Record] = {}  # every live row, in order of last write (= expiry)
        self._pending: dict[str, Record] = {}  # rows not yet in the file
        self._next_flush = 0.0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("PRAGMA locking_mode=EXCLUSIVE")
        self._db.execute("PRAGMA journal_mode=MEMORY")
        create_schema(self._db)
        self._db.execute(DELETE_EXPIRED, (time.time(),))
        for guid, *record in self._db.execute(SELECT_ALL):
            self._rows[guid] = tuple(record)
        self._step_lock = _Locked(self._db, self._lock)

    def _step(self) -> _Locked:
        return self._step_lock

    def _load(self, db: sqlite3.Connection, guid: str) -> Record | None:
        return self._rows.get(guid)

    def _save(self, db: sqlite3.Connection, guid: str, record: Record, now: float) -> None:
        # Moved to the end: the dict stays in order of last write, which is expiry order.
        self._rows.pop(guid, None)
        self._rows[guid] = self._pending[guid] = record
        wall = time.monotonic()
        if wall >= self._next_flush:
            self._next_flush = wall + self.flush_interval_s
            self._write_pending(now)

    def _forget_expired(self, now: float) -> list[str]:
        """Forget the rows expired by `now`, from the front of the expiry order (a bounded
        batch). A row written with an earlier clock than its predecessors waits for them: at
        most one TTL later."""
        expired: list[str] = []
        for guid, record in self._rows.items():
            if record[5] >= now or len(expired) == self.purge_batch:
                break
            expired.append(guid)
        for guid in expired:
            del self._rows[guid]
            self._pending.pop(guid, None)
        return expired

    def _write_pending(self, now: float) -> None:
        """In one transaction, write every pending row once and delete the expired ones."""
        db = self._db
        expired = self._forget_expired(now)
        if not self._pending and not expired:
            return
        pending, self._pending = self._pending, {}
        try:
            db.execute("BEGIN")
            db.executemany(UPSERT, [(guid, *record) for guid, record in pending.items()])
            db.executemany(DELETE_ONE, [(guid,) for guid in expired])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            # Newer changes win; nothing is dropped. Expired rows stay in the file: they are
            # invisible there too, and deleted at the next open.
            pending.update(self._pending)
            self._pending = pending
            raise

    def flush(self, now: float | None = None) -> None:
        """Write the pending changes to the file now, and purge the rows expired by `now`
        (the current time by default). On failure every change stays pending."""
        with self._lock:
            self._write_pending(time.time() if now is None else now)

    def close(self) -> None:
        """Flush, then close the file."""
        self.flush()
        self._db.close()
