"""SQLite store: the embedded default for local runs, safe for several processes on one file.

One row per guid mirrors the DynamoDB item (docs/storage.md). Like DynamoDB TTL, expired rows
are treated as absent on every read and deleted lazily. Two modes:

- ``shared=True`` (default; the gateway's ``lmi`` and ``ondemand`` worker processes): WAL, a
  connection per thread, and every operation one ``BEGIN IMMEDIATE`` transaction (the write lock
  taken up front, so processes serialize instead of deadlocking on lock upgrades). Writers first
  queue on an exclusive ``flock`` of ``<file>.lock``: the kernel wakes the next one the moment the
  lock is free, where SQLite's busy handler sleeps and polls (1, 2, 5 ... 100 ms), which under 16
  concurrent writers turned a 0.2 ms transaction into a 200 ms tail.
- ``shared=False`` (``WSRELAY_SQLITE_SHARED=false``, set by the gateway's ``inprocess``
  runtime): one process owns the file. One connection in exclusive locking mode with an
  in-memory rollback journal, a lock instead of transactions, and every live row held in memory
  (loaded at open): reads are dict lookups and the memory is the store of record. Writes reach
  the file behind, coalesced: a changed row is marked dirty, and every ``flush_interval_s``
  (checked on each write; ``flush()`` for idle periods, ``close()`` at the end) the dirty rows
  go out in one transaction, each once whatever number of times it changed. A subscribe,
  publish, ack and unsubscribe of one guid within the interval cost one row write instead of
  four autocommits (the writes were ~40% of the handlers' cost in the gateway).

``synchronous=OFF`` in both: a shared store survives a crash of a process, not of the machine;
an owned store, closed or flushed, the same, and a crash (``kill -9``) of its process loses at
most the last ``flush_interval_s`` of changes (the clients of that process lose their
connections too; workers resend unacked results when they reconnect, docs/protocol.md).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: fall back to SQLite's busy handler
    fcntl = None  # type: ignore[assignment]
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from wsrelay.ports import Channel, Published

_SCHEMA = """
CREATE TABLE IF NOT EXISTS channels (
    guid TEXT PRIMARY KEY,
    subscribers TEXT NOT NULL DEFAULT '',  -- connection ids, space-separated
    publishers TEXT NOT NULL DEFAULT '',
    result TEXT,
    published_at REAL,
    acked_by TEXT,
    expires_at REAL NOT NULL
) WITHOUT ROWID
"""
# Expired rows are invisible at once (every read checks expires_at); deleting them is only
# housekeeping. Shared mode: a full-table DELETE at most this often per process. (Every 100th
# write cost ~30 us per operation on a 30k-row table; an index on expires_at cost more in upkeep
# than it saved.) Owned mode: incrementally with every flush, see `_purge_owned`.
_PURGE_INTERVAL_S = 60.0
# Owned mode: how long a change may stay in memory only.
FLUSH_INTERVAL_S = 0.1
# Owned mode: expired rows deleted per flush at most (~5 us each; 10 flushes a second under load
# or idle: far above any rate at which rows are created).
_PURGE_BATCH = 2000


# One guid's row as stored: (subscribers, publishers, result, published_at, acked_by,
# expires_at), connection ids space-separated. The owned mode holds its rows in memory in this
# form too: a tuple of strings and floats, which the garbage collector stops tracking, so
# millions of live rows cost no collector passes (sets per row made full collections walk them).
_Record = tuple[str, str, str | None, float | None, str | None, float]
_COLUMNS = "subscribers, publishers, result, published_at, acked_by, expires_at"
_UPSERT = f"INSERT OR REPLACE INTO channels (guid, {_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_SELECT = f"SELECT {_COLUMNS} FROM channels WHERE guid = ?"


@dataclass(slots=True)
class _Row:
    """One guid's row while an operation changes it."""

    subscribers: set[str] = field(default_factory=set)
    publishers: set[str] = field(default_factory=set)
    result: str | None = None
    published_at: float | None = None
    acked_by: str | None = None

    @classmethod
    def parse(cls, record: _Record) -> _Row:
        return cls(set(record[0].split()), set(record[1].split()), record[2], record[3], record[4])

    def record(self, expires_at: float) -> _Record:
        subscribers, publishers = " ".join(self.subscribers), " ".join(self.publishers)
        return (subscribers, publishers, self.result, self.published_at, self.acked_by, expires_at)

    def channel(self) -> Channel:
        return Channel(
            frozenset(self.subscribers),
            frozenset(self.publishers),
            self.result,
            self.published_at,
            self.acked_by,
        )


class _Owned:
    """Owned mode's atomic step: the store's lock around its one connection."""

    __slots__ = ("db", "lock")

    def __init__(self, db: sqlite3.Connection, lock: threading.Lock) -> None:
        self.db = db
        self.lock = lock

    def __enter__(self) -> sqlite3.Connection:
        self.lock.acquire()
        return self.db

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


class SqliteStore:
    """The `Store` port on one SQLite file."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        ttl_seconds: int,
        shared: bool = True,
        flush_interval_s: float = FLUSH_INTERVAL_S,
    ) -> None:
        self.path = Path(path)
        self.ttl_seconds = ttl_seconds
        self.shared = shared
        self.flush_interval_s = flush_interval_s
        self._local = threading.local()  # shared mode: a connection (and lock fd) per thread
        self._lock = threading.Lock()  # owned mode: one connection, one operation at a time
        self._rows: dict[str, _Record] = {}  # owned mode: every live row
        self._dirty: dict[str, _Record] = {}  # owned mode: rows not yet in the file
        self._next_flush = 0.0
        self._next_purge = 0.0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if shared:
            with self._transaction() as db:
                db.execute(_SCHEMA)
        else:
            self._db = self._open()
            self._db.execute(_SCHEMA)
            self._owned = _Owned(self._db, self._lock)
            self._load_all()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=self.shared)
        db.execute("PRAGMA synchronous=OFF")
        if self.shared:
            db.execute("PRAGMA journal_mode=WAL")
        else:
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=MEMORY")
        return db

    def _load_all(self) -> None:
        now = time.time()
        self._db.execute("DELETE FROM channels WHERE expires_at < ?", (now,))
        query = f"SELECT guid, {_COLUMNS} FROM channels ORDER BY expires_at"
        for guid, *record in self._db.execute(query):
            self._rows[guid] = tuple(record)

    def _step(self) -> AbstractContextManager[sqlite3.Connection]:
        """One atomic operation on the store."""
        return self._transaction() if self.shared else self._owned

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """Shared mode: this thread's connection, inside the file lock and a write transaction."""
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self._open()
            if fcntl is not None:
                self._local.lock = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        lock = getattr(self._local, "lock", None)
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            if lock is not None:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _load(self, db: sqlite3.Connection, guid: str, now: float) -> _Row | None:
        if self.shared:
            record = db.execute(_SELECT, (guid,)).fetchone()
        else:
            record = self._rows.get(guid)
        if record is None or record[5] < now:
            return None
        return _Row.parse(record)

    def _save(self, db: sqlite3.Connection, guid: str, row: _Row, now: float) -> None:
        record = row.record(now + self.ttl_seconds)
        if self.shared:
            db.execute(_UPSERT, (guid, *record))
            if now >= self._next_purge:
                self._next_purge = now + _PURGE_INTERVAL_S
                db.execute("DELETE FROM channels WHERE expires_at < ?", (now,))
            return
        # Moved to the end: the dict stays in order of last write, which is expiry order.
        self._rows.pop(guid, None)
        self._rows[guid] = self._dirty[guid] = record
        wall = time.monotonic()
        if wall >= self._next_flush:
            self._next_flush = wall + self.flush_interval_s
            self._write_dirty(db, now)

    def _purge_owned(self, now: float) -> list[str]:
        """Owned mode: forget the rows expired by `now`, from the front of the expiry order.

        Costs what expired since the last call (at most `_PURGE_BATCH` rows), never a pass over
        every row (a full pass took 150 ms at 300,000 rows, on the gateway's event loop).
        A row written with an earlier clock than its predecessors waits for them: at most one
        TTL later.
        """
        expired: list[str] = []
        for guid, record in self._rows.items():
            if record[5] >= now or len(expired) == _PURGE_BATCH:
                break
            expired.append(guid)
        for guid in expired:
            del self._rows[guid]
            self._dirty.pop(guid, None)
        return expired

    def _write_dirty(self, db: sqlite3.Connection, now: float) -> None:
        """Owned mode: in one transaction, write every dirty row once and delete expired rows."""
        expired = self._purge_owned(now)
        if not self._dirty and not expired:
            return
        dirty, self._dirty = self._dirty, {}
        try:
            db.execute("BEGIN")
            db.executemany(_UPSERT, [(guid, *record) for guid, record in dirty.items()])
            db.executemany("DELETE FROM channels WHERE guid = ?", [(guid,) for guid in expired])
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            # Newer changes win; nothing is dropped. Expired rows stay in the file: they are
            # invisible there too, and deleted at the next open.
            dirty.update(self._dirty)
            self._dirty = dirty
            raise

    def flush(self) -> None:
        """Write the owned store's pending changes to the file now (no-op in shared mode)."""
        if not self.shared:
            with self._lock:
                self._write_dirty(self._db, time.time())

    def subscribe(self, guid: str, connection_id: str, now: float) -> Channel:
        with self._step() as db:
            row = self._load(db, guid, now) or _Row()
            row.subscribers.add(connection_id)
            self._save(db, guid, row, now)
            return row.channel()

    def unsubscribe(self, guid: str, connection_id: str, now: float) -> None:
        with self._step() as db:
            row = self._load(db, guid, now)
            if row is not None:  # a write even when absent: it refreshes the TTL, as DynamoDB's does
                row.subscribers.discard(connection_id)
                self._save(db, guid, row, now)

    def publish(self, guid: str, connection_id: str, result: str, now: float) -> Published:
        with self._step() as db:
            row = self._load(db, guid, now) or _Row()
            if row.acked_by is not None:
                return Published(frozenset(row.subscribers), row.acked_by, resend=True)
            resend = bool(row.publishers)
            row.publishers.add(connection_id)
            row.result = result
            if row.published_at is None:
                row.published_at = now
            self._save(db, guid, row, now)
            return Published(frozenset(row.subscribers), None, resend)

    def ack(self, guid: str, connection_id: str, now: float) -> Channel | None:
        with self._step() as db:
            row = self._load(db, guid, now)
            if row is None or not row.publishers:
                return None
            row.acked_by = connection_id
            row.result = None
            self._save(db, guid, row, now)
            return row.channel()

    def close(self) -> None:
        """Close this thread's connection (shared mode) or the connection (owned mode)."""
        if not self.shared:
            self.flush()
            self._db.close()
            return
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
        lock = getattr(self._local, "lock", None)
        if lock is not None:
            os.close(lock)
            self._local.lock = None
