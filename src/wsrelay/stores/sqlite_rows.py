"""What the row stores share: the SQLite table, one guid's row, and the operations on it.

One row per guid mirrors the DynamoDB item (docs/storage.md). Like DynamoDB TTL, expired rows
are treated as absent on every read and deleted lazily. The stores differ only in where a row
is read from and written to, and in what makes an operation atomic:

- `wsrelay.stores.sqlite_shared.SharedSqliteStore`: a file several processes write;
- `wsrelay.local.runtimes.inprocess.store.OwnedSqliteStore`: a file one process owns, rows in memory;
- `wsrelay.stores.memory.MemoryStore`: rows in memory only, on a clock passed in (the simulation's).
"""

from __future__ import annotations

import sqlite3
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from wsrelay.ports import Channel, Published

SCHEMA = """
CREATE TABLE IF NOT EXISTS channels (
    guid TEXT PRIMARY KEY,
    subscribers TEXT NOT NULL DEFAULT '',  -- connection ids, space-separated
    publishers TEXT NOT NULL DEFAULT '',
    result TEXT,
    published_at REAL,
    acked_by TEXT,
    expires_at REAL NOT NULL,
    store_acked TEXT NOT NULL DEFAULT ''  -- publishers the relay acked on store (space-separated)
) WITHOUT ROWID
"""
# Files written before ``publisher_ack`` lack the last column; it is added on open.
ADD_STORE_ACKED = "ALTER TABLE channels ADD COLUMN store_acked TEXT NOT NULL DEFAULT ''"

# One guid's row as stored: (subscribers, publishers, result, published_at, acked_by,
# expires_at, store_acked), connection ids space-separated. The owned store holds its rows in memory in this
# form too: a tuple of strings and floats, which the garbage collector stops tracking, so
# millions of live rows cost no collector passes.
Record = tuple[str, str, str | None, float | None, str | None, float, str]
COLUMNS = "subscribers, publishers, result, published_at, acked_by, expires_at, store_acked"
UPSERT = f"INSERT OR REPLACE INTO channels (guid, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
SELECT = f"SELECT {COLUMNS} FROM channels WHERE guid = ?"
SELECT_ALL = f"SELECT guid, {COLUMNS} FROM channels ORDER BY expires_at"
DELETE_EXPIRED = "DELETE FROM channels WHERE expires_at < ?"
DELETE_ONE = "DELETE FROM channels WHERE guid = ?"


def create_schema(db: sqlite3.Connection) -> None:
    """Create the table, or bring a file from an older version up to this schema."""
    db.execute(SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(channels)")}
    if "store_acked" not in columns:
        db.execute(ADD_STORE_ACKED)


@dataclass(slots=True)
class Row:
    """One guid's row while an operation changes it."""

    subscribers: set[str] = field(default_factory=set)
    publishers: set[str] = field(default_factory=set)
    result: str | None = None
    published_at: float | None = None
    acked_by: str | None = None
    store_acked: set[str] = field(default_factory=set)

    @classmethod
    def parse(cls, record: Record) -> Row:
        subscribers, publishers, result, published_at, acked_by, _, store_acked = record
        return cls(
            set(subscribers.split()),
            set(publishers.split()),
            result,
            published_at,
            acked_by,
            set(store_acked.split()),
        )

    def record(self, expires_at: float) -> Record:
        subscribers, publishers = " ".join(self.subscribers), " ".join(self.publishers)
        store_acked = " ".join(self.store_acked)
        return (
            subscribers,
            publishers,
            self.result,
            self.published_at,
            self.acked_by,
            expires_at,
            store_acked,
        )

    def channel(self) -> Channel:
        return Channel(
            frozenset(self.subscribers),
            frozenset(self.publishers),
            self.result,
            self.published_at,
            self.acked_by,
            frozenset(self.store_acked),
        )


class SqliteRowStore(ABC):
    """The `Store` port's operations, each one atomic step on one row.

    A subclass says what a step is (`_step`), where a row comes from (`_load`) and where it
    goes (`_save`).
    """

    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds

    @abstractmethod
    def _step(self) -> AbstractContextManager[Any]:
        """One atomic operation: its handle (a SQLite connection, or nothing for memory), held
        exclusively until the block ends."""

    @abstractmethod
    def _load(self, db: Any, guid: str) -> Record | None:
        """The guid's stored record, expired or not."""

    @abstractmethod
    def _save(self, db: Any, guid: str, record: Record, now: float) -> None:
        """Store the guid's record (inside the step)."""

    def _row(self, db: Any, guid: str, now: float) -> Row | None:
        record = self._load(db, guid)
        if record is None or record[5] < now:  # expires_at
            return None
        return Row.parse(record)

    def _write(self, db: Any, guid: str, row: Row, now: float) -> None:
        self._save(db, guid, row.record(now + self.ttl_seconds), now)

    def subscribe(self, guid: str, connection_id: str, now: float) -> Channel:
        with self._step() as db:
            row = self._row(db, guid, now) or Row()
            row.subscribers.add(connection_id)
            self._write(db, guid, row, now)
            return row.channel()

    def unsubscribe(self, guid: str, connection_id: str, now: float) -> None:
        with self._step() as db:
            row = self._row(db, guid, now)
            if row is not None:  # a write even when absent: it refreshes the TTL, as DynamoDB's does
                row.subscribers.discard(connection_id)
                self._write(db, guid, row, now)

    def publish(
        self, guid: str, connection_id: str, result: str, now: float, ack_on_store: bool = False
    ) -> Published:
        with self._step() as db:
            row = self._row(db, guid, now) or Row()
            if row.acked_by is not None:
                return Published(frozenset(row.subscribers), row.acked_by, resend=True)
            resend = bool(row.publishers)
            row.publishers.add(connection_id)
            if ack_on_store:
                row.store_acked.add(connection_id)
            row.result = result
            if row.published_at is None:
                row.published_at = now
            self._write(db, guid, row, now)
            return Published(frozenset(row.subscribers), None, resend)

    def withhold_ack(self, guid: str, connection_id: str, now: float) -> str | None:
        with self._step() as db:
            row = self._row(db, guid, now)
            if row is None:
                return None
            row.store_acked.discard(connection_id)
            self._write(db, guid, row, now)
            return row.acked_by

    def ack(self, guid: str, connection_id: str, now: float) -> Channel | None:
        with self._step() as db:
            row = self._row(db, guid, now)
            if row is None or not row.publishers:
                return None
            row.acked_by = connection_id
            row.result = None
            self._write(db, guid, row, now)
            return row.channel()
