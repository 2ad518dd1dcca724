"""SQLite store on a file several processes write: the handlers' store in ``lmi`` and
``ondemand`` worker processes of the local stack (and in Lambda with ``WSRELAY_STORE=sqlite``).

WAL, a connection per thread, and every operation one ``BEGIN IMMEDIATE`` transaction (the
write lock taken up front, so processes serialize instead of deadlocking on lock upgrades).
Writers first queue on an exclusive ``flock`` of ``<file>.lock``: the kernel wakes the next one
the moment the lock is free, where SQLite's busy handler sleeps and polls (1, 2, 5 ... 100 ms)
and turns a sub-millisecond transaction into a long tail under many concurrent writers.

``synchronous=OFF``: the store survives a crash of a process, not of the machine.
"""

from __future__ import annotations

import os
import sqlite3
import threading

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: fall back to SQLite's busy handler
    fcntl = None  # type: ignore[assignment]
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from wsrelay.stores.sqlite_rows import DELETE_EXPIRED, SELECT, UPSERT, Record, SqliteRowStore, create_schema

# Expired rows are invisible at once (every read checks expires_at); deleting them is only
# housekeeping, so a full-table DELETE runs at most this often per process (an index on
# expires_at costs more in upkeep than it saves).
PURGE_INTERVAL_S = 60.0


class SharedSqliteStore(SqliteRowStore):
    """The `Store` port on a SQLite file shared by several processes."""

    def __init__(self, path: str | os.PathLike[str], ttl_seconds: int) -> None:
        super().__init__(ttl_seconds)
        self.path = Path(path)
        self._local = threading.local()  # a connection (and lock fd) per thread
        self._next_purge = 0.0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._step() as db:
            create_schema(db)

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA journal_mode=WAL")
        return db

    @contextmanager
    def _step(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, inside the file lock and a write transaction.

        The lock comes first, even before the connection is opened: switching a new file to WAL
        needs the database to itself, and processes starting together (the local stack's
        worker processes run their init at once) would otherwise meet "database is locked".
        """
        lock: int | None = getattr(self._local, "lock", None)
        if lock is None and fcntl is not None:
            lock = self._local.lock = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o644)
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            db: sqlite3.Connection | None = getattr(self._local, "db", None)
            if db is None:
                db = self._local.db = self._open()
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

    def _load(self, db: sqlite3.Connection, guid: str) -> Record | None:
        record: Record | None = db.execute(SELECT, (guid,)).fetchone()
        return record

    def _save(self, db: sqlite3.Connection, guid: str, record: Record, now: float) -> None:
        db.execute(UPSERT, (guid, *record))
        if now >= self._next_purge:
            self._next_purge = now + PURGE_INTERVAL_S
            db.execute(DELETE_EXPIRED, (now,))
