"""One contract for every Store adapter: SQLite on a file, DynamoDB on moto's server over HTTP, and
the in-memory store `wsrelay simulate` runs the relay over."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from wsrelay.local.runtimes.inprocess.store import OwnedSqliteStore
from wsrelay.stores.dynamodb import DynamoDBStore
from wsrelay.stores.memory import MemoryStore
from wsrelay.stores.sqlite_shared import SharedSqliteStore

NOW = 1_800_000_000.0


def test_subscribe_returns_channel(make_store):
    store = make_store()
    channel = store.subscribe("g1", "A", NOW)
    assert channel.subscribers == {"A"}
    assert channel.result is None
    assert store.subscribe("g1", "B", NOW).subscribers == {"A", "B"}


def test_unsubscribe(make_store):
    store = make_store()
    store.subscribe("g1", "A", NOW)
    store.subscribe("g1", "B", NOW)
    store.unsubscribe("g1", "A", NOW)
    store.unsubscribe("g1", "zzz", NOW)  # absent: no-op
    store.unsubscribe("nothing-here", "A", NOW)  # no item: no-op, nothing created
    assert store.publish("g1", "W", "{}", NOW).subscribers == {"B"}
    assert store.ack("nothing-here", "A", NOW) is None


def test_publish_stores_result_for_late_subscriber(make_store):
    store = make_store()
    published = store.publish("g1", "W", '{"guid":"g1"}', NOW)
    assert published.subscribers == frozenset()
    assert not published.resend and published.already_acked_by is None
    channel = store.subscribe("g1", "R", NOW + 1)
    assert channel.result == '{"guid":"g1"}'
    assert channel.published_at == pytest.approx(NOW)


def test_resend_is_flagged_and_keeps_first_publish_time(make_store):
    store = make_store()
    store.publish("g1", "W1", "{}", NOW)
    again = store.publish("g1", "W2", "{}", NOW + 5)
    assert again.resend
    channel = store.ack("g1", "R", NOW + 6)
    assert channel.publishers == {"W1", "W2"}
    assert channel.published_at == pytest.approx(NOW)


def test_ack_removes_result_and_blocks_republish(make_store):
    store = make_store()
    store.subscribe("g1", "R", NOW)
    store.publish("g1", "W", "{}", NOW)
    channel = store.ack("g1", "R", NOW)
    assert channel.acked_by == "R" and channel.result is None
    after = store.publish("g1", "W2", "{}", NOW + 1)
    assert after.already_acked_by == "R"
    assert store.subscribe("g1", "R2", NOW + 2).result is None


def test_ack_without_publish_is_none_and_changes_nothing(make_store):
    store = make_store()
    store.subscribe("g1", "R", NOW)
    assert store.ack("g1", "R", NOW) is None
    assert store.publish("g1", "W", "x", NOW).already_acked_by is None


def test_expired_item_is_absent_and_replaced(make_store):
    store = make_store(ttl=10)
    store.subscribe("g1", "old", NOW)
    store.publish("g1", "W", "stale", NOW)
    later = NOW + 11
    assert store.ack("g1", "R", later) is None
    channel = store.subscribe("g1", "new", later)
    assert channel.subscribers == {"new"}
    assert channel.result is None
    assert store.publish("g1", "W2", "fresh", later).subscribers == {"new"}


def test_every_write_refreshes_ttl(make_store):
    store = make_store(ttl=10)
    store.publish("g1", "W", "r", NOW)
    store.subscribe("g1", "R", NOW + 8)  # refresh
    assert store.subscribe("g1", "R2", NOW + 16).result == "r"


def test_concurrent_subscribe_and_publish_never_lose_the_result(make_store):
    """Whatever the interleaving, the subscriber sees the result either on publish or on subscribe."""
    store = make_store()
    rounds = 30
    lost = []

    def one(i: int) -> None:
        guid = f"race-{i}"
        barrier = threading.Barrier(2)
        seen = {}

        def sub():
            barrier.wait()
            seen["sub"] = store.subscribe(guid, "R", NOW).result

        def pub():
            barrier.wait()
            seen["pub"] = store.publish(guid, "W", "result", NOW).subscribers

        with ThreadPoolExecutor(2) as pool:
            for f in [pool.submit(sub), pool.submit(pub)]:
                f.result()
        if seen["sub"] != "result" and "R" not in seen["pub"]:
            lost.append(guid)

    for i in range(rounds):
        one(i)
    assert lost == []


def test_concurrent_subscribers_all_recorded(make_store):
    store = make_store()
    ids = [f"C{i}" for i in range(20)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda cid: store.subscribe("fan", cid, NOW), ids))
    assert store.publish("fan", "W", "r", NOW).subscribers == set(ids)


def test_concurrent_acks_and_resends_agree(make_store):
    store = make_store()
    store.publish("g", "W1", "r", NOW)
    with ThreadPoolExecutor(4) as pool:
        acks = list(pool.map(lambda cid: store.ack("g", cid, NOW), ["R1", "R2"]))
        resend = pool.submit(store.publish, "g", "W2", "r", NOW).result()
    assert all(a is not None and "W1" in a.publishers for a in acks)
    assert resend.resend


def test_memory_store_forgets_expired_channels_and_keeps_renewed_ones():
    store = MemoryStore(10)
    store.publish("old", "W", "r1", NOW)
    store.publish("renewed", "W", "r2", NOW)
    store.subscribe("renewed", "R", NOW + 8)  # a write renews the TTL
    assert store.expire(NOW + 5) == 0 and len(store) == 2
    assert store.expire(NOW + 11) == 1 and len(store) == 1  # "old" expired at NOW + 10
    assert store.subscribe("renewed", "R2", NOW + 11).result == "r2"
    assert store.subscribe("old", "R", NOW + 11).result is None  # a fresh channel
    with pytest.raises(ValueError):
        MemoryStore(0)


def test_owned_sqlite_store_survives_a_restart(tmp_path):
    path = tmp_path / "owned.db"
    store = OwnedSqliteStore(path, 600)
    store.subscribe("kept", "R", time.time())
    store.publish("kept", "W", "result", time.time())
    store.publish("gone", "W", "old", time.time() - 700)  # already expired
    store.close()
    reopened = OwnedSqliteStore(path, 600)
    assert reopened.subscribe("kept", "R2", time.time()).result == "result"
    assert reopened.subscribe("gone", "R2", time.time()).result is None


def _file_rows(store: OwnedSqliteStore, tmp_path) -> dict[str, tuple[frozenset[str], str | None]]:
    """What the owned store's file holds now, as a crash would leave it (read from a copy: the
    store keeps its file locked)."""
    copy = tmp_path / f"copy-{uuid.uuid4().hex}.db"
    shutil.copyfile(store.path, copy)
    with contextlib.closing(sqlite3.connect(copy)) as db:
        rows = db.execute("SELECT guid, subscribers, result FROM channels").fetchall()
    return {guid: (frozenset(subscribers.split()), result) for guid, subscribers, result in rows}


def test_owned_sqlite_store_writes_behind_coalesced(tmp_path):
    store = OwnedSqliteStore(tmp_path / "owned.db", 600, flush_interval_s=3600)
    store.subscribe("g", "R", NOW)  # the first write flushes (nothing was pending)
    store.publish("g", "W", "result", NOW)
    store.ack("g", "R", NOW)
    assert _file_rows(store, tmp_path) == {"g": ({"R"}, None)}  # later changes wait in memory...
    assert store.subscribe("g", "R2", NOW).acked_by == "R"  # ...and memory is the store of record
    store.flush(NOW)
    assert _file_rows(store, tmp_path) == {"g": ({"R", "R2"}, None)}
    eager = OwnedSqliteStore(tmp_path / "eager.db", 600, flush_interval_s=0)
    eager.subscribe("h", "R", NOW)
    eager.publish("h", "W", "r", NOW)
    assert _file_rows(eager, tmp_path) == {"h": ({"R"}, "r")}  # interval 0: every write reaches the file


def test_owned_sqlite_rows_cost_the_garbage_collector_nothing(tmp_path):
    """Live rows are held in a form the collector stops tracking: many rows add (almost) no
    tracked objects, so full collections do not walk them."""
    import gc

    store = OwnedSqliteStore(tmp_path / "owned.db", 600, flush_interval_s=3600)
    store.subscribe("warm", "R", NOW)
    gc.collect()
    before = len(gc.get_objects())
    for i in range(2000):
        store.subscribe(f"g{i}", "R", NOW)
        store.publish(f"g{i}", "W", "result", NOW)
    gc.collect()
    assert len(gc.get_objects()) - before < 100  # sets or lists per row would add thousands


def test_owned_sqlite_store_purges_expired_rows_in_expiry_order(tmp_path):
    store = OwnedSqliteStore(tmp_path / "owned.db", 600, flush_interval_s=3600)
    store.publish("old", "W", "r1", NOW)
    store.publish("refreshed", "W", "r2", NOW)
    store.publish("new", "W", "r3", NOW + 300)
    store.subscribe("refreshed", "R", NOW + 400)  # a write renews the TTL and the place in line
    store.flush(NOW)
    assert set(_file_rows(store, tmp_path)) == {"old", "refreshed", "new"}
    store.flush(NOW + 700)  # "old" expired at NOW + 600; "refreshed" lives until NOW + 1000
    assert set(_file_rows(store, tmp_path)) == {"new", "refreshed"}
    store.flush(NOW + 950)
    assert set(_file_rows(store, tmp_path)) == {"refreshed"}
    assert store.subscribe("refreshed", "R", NOW + 950).result == "r2"
    assert store.subscribe("old", "R", NOW + 950).result is None


def test_owned_sqlite_store_purges_a_bounded_batch_per_flush(tmp_path):
    store = OwnedSqliteStore(tmp_path / "owned.db", 600, flush_interval_s=3600, purge_batch=2)
    for i in range(5):
        store.publish(f"g{i}", "W", "r", NOW)
    store.flush(NOW)
    store.flush(NOW + 700)
    assert set(_file_rows(store, tmp_path)) == {"g2", "g3", "g4"}  # the rest waits for the next flushes
    store.flush(NOW + 700)
    assert set(_file_rows(store, tmp_path)) == {"g4"}
    store.flush(NOW + 700)
    assert _file_rows(store, tmp_path) == {}


def test_owned_sqlite_store_deletes_expired_rows_of_the_file_at_open(tmp_path):
    path = tmp_path / "owned.db"
    store = OwnedSqliteStore(path, 600)
    store.publish("gone", "W", "old", time.time() - 700)
    store.publish("kept", "W", "new", time.time())
    store.close()
    with sqlite3.connect(path) as db:  # an expired row, as a crash leaves one
        db.execute("INSERT INTO channels (guid, expires_at) VALUES ('stale', 1.0)")
    db.close()
    reopened = OwnedSqliteStore(path, 600)
    assert set(_file_rows(reopened, tmp_path)) == {"kept"}
    assert reopened.subscribe("kept", "R", time.time()).result == "new"


class _DiskFull:
    """A connection whose batch writes fail while `full` is set (everything else goes through)."""

    full = False

    def __init__(self, real: sqlite3.Connection) -> None:
        self.real = real

    @property
    def in_transaction(self) -> bool:
        return self.real.in_transaction

    def execute(self, *args):
        return self.real.execute(*args)

    def executemany(self, *args):
        if _DiskFull.full:
            raise sqlite3.OperationalError("database or disk is full")
        return self.real.executemany(*args)

    def close(self) -> None:
        self.real.close()


def test_owned_sqlite_store_keeps_changes_when_a_flush_fails(tmp_path):
    connections: list[_DiskFull] = []

    def connect(*args, **kwargs):
        connections.append(_DiskFull(sqlite3.connect(*args, **kwargs)))
        return connections[-1]

    store = OwnedSqliteStore(tmp_path / "owned.db", 600, flush_interval_s=3600, connect=connect)
    store.subscribe("g", "R", NOW)
    store.publish("g", "W", "result", NOW)
    _DiskFull.full = True
    try:
        with pytest.raises(sqlite3.OperationalError, match="disk is full"):
            store.flush(NOW)
    finally:
        _DiskFull.full = False
    assert not connections[0].in_transaction  # the failed batch was rolled back
    assert _file_rows(store, tmp_path) == {"g": ({"R"}, None)}
    store.flush(NOW)  # the retry writes what the failed one held
    assert _file_rows(store, tmp_path) == {"g": ({"R"}, "result")}


@pytest.mark.processes
def test_sqlite_is_safe_across_processes(tmp_path):
    """Several OS processes subscribe to one guid on one file; none is lost."""
    import multiprocessing as mp

    path = tmp_path / "shared.db"
    SharedSqliteStore(path, 600)
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_subscribe_many, args=(str(path), f"P{i}")) for i in range(4)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    subscribers = SharedSqliteStore(path, 600).publish("shared", "W", "r", time.time()).subscribers
    assert subscribers == {f"P{i}-{j}" for i in range(4) for j in range(25)}


def _subscribe_many(path: str, prefix: str) -> None:
    store = SharedSqliteStore(path, 600)
    for j in range(25):
        store.subscribe("shared", f"{prefix}-{j}", time.time())


def test_dynamodb_one_update_per_operation_and_no_reads(dynamodb_client, table):
    """One DynamoDB call per operation, counted on the wire by botocore's event hooks: an
    UpdateItem, whose returned values are strongly consistent. No Scan, Query or GetItem, also
    for an ack of a guid never published (where a read would be the obvious way to look)."""
    calls: list[str] = []
    dynamodb_client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.append(model.name)
    )
    store = DynamoDBStore(dynamodb_client, table, 600)
    for op in (
        lambda: store.subscribe("rt", "R", NOW),
        lambda: store.publish("rt", "W", "r", NOW),
        lambda: store.ack("rt", "R", NOW),
        lambda: store.unsubscribe("rt", "R", NOW),
        lambda: store.ack("never-published", "R", NOW),
    ):
        calls.clear()
        op()
        assert calls == ["UpdateItem"]


def test_dynamodb_item_shape(dynamodb_client, table):
    store = DynamoDBStore(dynamodb_client, table, 600)
    store.subscribe("shape", "R", NOW)
    store.publish("shape", "W", '{"guid":"shape"}', NOW)
    item = dynamodb_client.get_item(
        TableName=table, Key={"connectionId": {"S": "guid#shape"}}, ConsistentRead=True
    )["Item"]
    assert item["subscribers"] == {"SS": ["R"]}
    assert item["publishers"] == {"SS": ["W"]}
    assert item["result"] == {"S": '{"guid":"shape"}'}
    assert int(item["ttl"]["N"]) == int(NOW) + 600


def test_unreachable_dynamodb_raises():
    from botocore.config import Config
    from botocore.exceptions import EndpointConnectionError

    client = boto3.client(
        "dynamodb",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        config=Config(retries={"max_attempts": 1}, connect_timeout=0.5),
    )
    with pytest.raises(EndpointConnectionError):
        DynamoDBStore(client, "t", 600).subscribe("g", "R", NOW)
