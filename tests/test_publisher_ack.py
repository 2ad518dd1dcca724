"""``publisher_ack=stored``: the relay acks the publisher itself once the result is stored and the
posts have ended (issue 17), over every store; and what both modes share (an already acked guid
is acked at once; a failed store write sends no ack)."""

from __future__ import annotations

import pytest

from wsrelay import relay as r
from wsrelay.local.runtimes.inprocess.store import OwnedSqliteStore
from wsrelay.ports import PostReport, PostResult, PostStatus
from wsrelay.protocol import STORED_ACKNOWLEDGER, ack_frame
from wsrelay.relay import Relay
from wsrelay.stores.dynamodb import DynamoDBStore
from wsrelay.stores.sqlite_shared import SharedSqliteStore

NOW = 1_800_000_000.0
RESULT = '{"guid":"job-1","code":0}'
STORED_ACK = ack_frame("job-1", STORED_ACKNOWLEDGER)


class Outbound:
    """Records every post and close in order; answers per connection with a status."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str]] = []  # (connection, frame), "<close>" for a close
        self.status: dict[str, PostStatus] = {}
        self.close_status = PostStatus.DELIVERED
        self.on_post: dict[str, object] = {}  # connection -> a callable run when it is posted to

    def post(self, connection_ids, data):
        results = []
        for cid in connection_ids:
            hook = self.on_post.pop(cid, None)
            if callable(hook):
                hook()
            status = self.status.get(cid, PostStatus.DELIVERED)
            if status is PostStatus.DELIVERED:
                self.log.append((cid, data))
            results.append(PostResult(cid, status, error=None if status is PostStatus.DELIVERED else "x"))
        return PostReport(results)

    def close(self, connection_id):
        self.log.append((connection_id, "<close>"))
        return PostResult(connection_id, self.close_status, error="x")

    def to(self, cid):
        return [frame for c, frame in self.log if c == cid]


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "sqlite-owned", pytest.param("dynamodb", marks=pytest.mark.processes)])
def make_store(request, tmp_path):
    """make_store(ttl=600, legacy=False) -> a Store (legacy: DynamoDB only)."""
    if request.param == "sqlite":
        return lambda ttl=600: SharedSqliteStore(tmp_path / "relay.db", ttl)
    if request.param == "sqlite-owned":
        return lambda ttl=600: OwnedSqliteStore(tmp_path / "owned.db", ttl)
    client = request.getfixturevalue("dynamodb_client")
    table = request.getfixturevalue("table")
    return lambda ttl=600: DynamoDBStore(client, table, ttl)


@pytest.fixture
def world(make_store):
    clock, out = Clock(), Outbound()
    return Relay(make_store(), out, clock, publisher_ack="stored"), out, clock


def test_one_ack_per_publish_after_the_deliveries(world):
    relay, out, _ = world
    relay.receive("R1", "subscribe: job-1")
    relay.receive("R2", "subscribe: job-1")
    published = relay.receive("W", RESULT)
    assert out.log == [("R1", RESULT), ("R2", RESULT), ("W", STORED_ACK)]  # the ack comes last
    assert published.counts[r.ACKS_ON_STORE] == 1 and published.counts[r.ACKS_WITHHELD] == 0
    resent = relay.receive("W", RESULT)  # a resend before any router ack: one ack per frame
    assert out.to("W") == [STORED_ACK, STORED_ACK]
    assert resent.counts[r.ACKS_ON_STORE] == 1


def test_stored_without_subscriber_is_acked_and_delivered_on_subscribe(world):
    relay, out, _ = world
    published = relay.receive("W", RESULT)
    assert published.outcome == "stored_without_subscriber"
    assert out.log == [("W", STORED_ACK)]
    late = relay.receive("R", "subscribe: job-1")
    assert out.to("R") == [RESULT] and late.counts[r.LATE_DELIVERIES] == 1


def test_no_ack_when_a_subscriber_post_failed_and_the_router_ack_reaches_it_later(world):
    relay, out, _ = world
    relay.receive("R1", "subscribe: job-1")
    relay.receive("R2", "subscribe: job-1")
    out.status["R2"] = PostStatus.FAILED  # 429 after retries, 5xx, 403, network
    published = relay.receive("W", RESULT)
    assert out.to("W") == []
    assert published.counts[r.ACKS_WITHHELD] == 1 and published.counts[r.ACKS_ON_STORE] == 0
    assert any("withheld" in note for note in published.notes)
    acked = relay.receive("R1", "ack: job-1")  # R1 got it: its ack is relayed to the publisher
    assert out.to("W") == [ack_frame("job-1", "R1")]
    assert acked.counts[r.ACKS_ROUTED] == 1


def test_a_gone_subscriber_does_not_withhold_the_ack(world):
    relay, out, _ = world
    relay.receive("R1", "subscribe: job-1")
    relay.receive("R2", "subscribe: job-1")
    out.status["R2"] = PostStatus.GONE
    published = relay.receive("W", RESULT)
    assert out.to("W") == [STORED_ACK]
    assert published.counts[r.STALE_CONNECTIONS_REMOVED] == 1


def test_too_large_does_not_withhold_the_ack(world):
    """A resend carries the same bytes, so it cannot fix a 413: the ack is not withheld for it."""
    relay, out, _ = world
    relay.receive("R", "subscribe: job-1")
    out.status["R"] = PostStatus.TOO_LARGE
    published = relay.receive("W", RESULT)
    assert out.to("W") == [STORED_ACK] and published.counts[r.POST_FAILURES] == 1


def test_router_ack_is_not_relayed_again_and_counts_as_routed(world):
    relay, out, _ = world
    relay.receive("R", "subscribe: job-1")
    relay.receive("W", RESULT)
    acked = relay.receive("R", "ack: job-1")
    assert out.to("W") == [STORED_ACK]
    assert acked.outcome == "ack_settled"
    assert acked.counts[r.ACKS_ROUTED] == 1 and acked.counts[r.ACKS_UNROUTABLE] == 0
    assert acked.latencies_ms  # DeliveryLatency is still recorded at the router's ack
    relay.receive("R2", "subscribe: job-1")
    assert out.to("R2") == []  # the router's ack dropped the stored result


def test_acks_unroutable_stays_zero_in_a_normal_cycle(world):
    relay, out, _ = world
    outcomes = [
        relay.receive("R", "subscribe: job-1"),
        relay.receive("W", RESULT),
        relay.receive("R", "ack: job-1"),
        relay.receive("R", "unsubscribe: job-1"),
        relay.receive("W2", '{"guid":"job-2"}'),  # published first: the router comes later
        relay.receive("R", "subscribe: job-2"),
        relay.receive("R", "ack: job-2"),
        relay.receive("R", "unsubscribe: job-2"),
    ]
    assert sum(o.counts[r.ACKS_UNROUTABLE] for o in outcomes) == 0
    assert sum(o.counts[r.ACKS_ROUTED] for o in outcomes) == 2
    assert sum(o.counts[r.ACKS_ON_STORE] for o in outcomes) == 2
    assert out.to("W") == [STORED_ACK] and out.to("W2") == [ack_frame("job-2", STORED_ACKNOWLEDGER)]


def test_failed_post_on_subscribe_closes_the_subscriber(world):
    relay, out, _ = world
    relay.receive("W", RESULT)
    out.status["R"] = PostStatus.FAILED
    subscribed = relay.receive("R", "subscribe: job-1")
    assert out.to("R") == ["<close>"]
    assert subscribed.outcome == "subscribed_delivery_failed"
    out.status.pop("R")
    relay.receive("R-again", "subscribe: job-1")  # the router reconnects and re-subscribes
    assert out.to("R-again") == [RESULT]


def test_a_close_that_fails_is_noted(world):
    relay, out, _ = world
    relay.receive("W", RESULT)
    out.status["R"] = PostStatus.FAILED
    out.close_status = PostStatus.FAILED
    subscribed = relay.receive("R", "subscribe: job-1")
    assert any("could not close R" in note for note in subscribed.notes)


def test_a_gone_subscriber_on_subscribe_is_not_closed(world):
    relay, out, _ = world
    relay.receive("W", RESULT)
    out.status["R"] = PostStatus.GONE
    relay.receive("R", "subscribe: job-1")
    assert out.to("R") == []


def test_a_publisher_that_misses_its_stored_ack_is_acked_on_resend(world):
    relay, out, _ = world
    out.status["W"] = PostStatus.GONE
    published = relay.receive("W", RESULT)
    assert published.counts[r.ACKS_ON_STORE] == 0
    assert any("did not take the ack" in note for note in published.notes)
    assert relay.receive("W2", RESULT).counts[r.ACKS_ON_STORE] == 1
    assert out.to("W2") == [STORED_ACK]


def test_a_router_ack_during_the_posts_reaches_the_withheld_publisher_once(world):
    """R1 gets the result and acks while the post to R2 is still failing: that ack skipped the
    publisher (recorded as acked on store), so withholding acks it with R1's ack instead."""
    relay, out, _ = world
    relay.receive("R1", "subscribe: job-1")
    relay.receive("R2", "subscribe: job-1")
    out.status["R2"] = PostStatus.FAILED
    out.on_post["R2"] = lambda: relay.receive("R1", "ack: job-1")
    published = relay.receive("W", RESULT)
    assert out.to("W") == [ack_frame("job-1", "R1")]
    assert published.counts[r.ACKS_WITHHELD] == 0 and published.counts[r.ACKS_ROUTED] == 1


def test_the_ttl_covers_the_router_wait_and_a_reconnect(make_store):
    """At the minimum TTL of stored mode (120 s), a router that lost the result right after the
    stored ack, waited and reconnected, still gets it from the store."""
    clock, out = Clock(), Outbound()
    relay = Relay(make_store(ttl=120), out, clock, publisher_ack="stored")
    relay.receive("R", "subscribe: job-1")
    out.status["R"] = PostStatus.GONE  # the router's connection died under the post
    relay.receive("W", RESULT)
    assert out.to("W") == [STORED_ACK]
    clock.now += 119
    relay.receive("R-new", "subscribe: job-1")
    assert out.to("R-new") == [RESULT]


@pytest.mark.parametrize("mode", ["stored", "router"])
def test_an_already_acked_guid_is_acked_at_once(make_store, mode):
    clock, out = Clock(), Outbound()
    relay = Relay(make_store(), out, clock, publisher_ack=mode)
    relay.receive("R", "subscribe: job-1")
    relay.receive("W", RESULT)
    relay.receive("R", "ack: job-1")
    out.log.clear()
    again = relay.receive("W3", RESULT)
    assert again.outcome == "already_acked"
    assert out.log == [("W3", ack_frame("job-1", "R"))]


class FailingStore:
    """A store whose writes raise, as DynamoDB throttled past its retries does."""

    def __init__(self, store, failing: str) -> None:
        self.store = store
        self.failing = failing

    def __getattr__(self, name):
        if name == self.failing:

            def fail(*args, **kwargs):
                raise RuntimeError(f"{name} failed")

            return fail
        return getattr(self.store, name)


@pytest.mark.parametrize("mode", ["stored", "router"])
def test_no_ack_when_the_store_write_fails(make_store, mode):
    clock, out = Clock(), Outbound()
    store = make_store()
    Relay(store, out, clock, publisher_ack=mode).receive("R", "subscribe: job-1")
    relay = Relay(FailingStore(store, "publish"), out, clock, publisher_ack=mode)
    out.log.clear()
    with pytest.raises(RuntimeError, match="publish failed"):
        relay.receive("W", RESULT)
    assert out.log == []


def test_no_ack_when_withholding_fails(make_store):
    """The publish's second write (taking the publisher out of the store-acked ones) fails: the
    invocation fails and sends no ack; the worker's resend retries."""
    clock, out = Clock(), Outbound()
    store = make_store()
    relay = Relay(FailingStore(store, "withhold_ack"), out, clock, publisher_ack="stored")
    relay.receive("R", "subscribe: job-1")
    out.status["R"] = PostStatus.FAILED
    with pytest.raises(RuntimeError, match="withhold_ack failed"):
        relay.receive("W", RESULT)
    assert out.to("W") == []


def test_router_mode_sends_no_ack_on_store_and_never_closes(make_store):
    clock, out = Clock(), Outbound()
    relay = Relay(make_store(), out, clock, publisher_ack="router")
    relay.receive("W", RESULT)
    out.status["R"] = PostStatus.FAILED
    relay.receive("R", "subscribe: job-1")
    assert out.log == []


def test_an_unknown_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="publisher_ack must be one of stored, router"):
        Relay(SharedSqliteStore(tmp_path / "r.db", 600), Outbound(), Clock(), publisher_ack="later")
