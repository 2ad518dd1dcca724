"""The relay's logic over a real SQLite store and a scripted in-memory outbound (no network)."""

from __future__ import annotations

import pytest
from relay_support import RESULT, Clock, ScriptedOutbound

from wsrelay import relay as r
from wsrelay.ports import PostStatus
from wsrelay.relay import Relay
from wsrelay.stores.sqlite_shared import SharedSqliteStore


@pytest.fixture
def world(tmp_path):
    clock = Clock()
    out = ScriptedOutbound()
    relay = Relay(SharedSqliteStore(tmp_path / "relay.db", ttl_seconds=600), out, clock)
    return relay, out, clock


def test_full_cycle(world):
    relay, out, _ = world
    assert relay.receive("R", "subscribe: job-1").outcome == "subscribed"
    published = relay.receive("W", RESULT)
    assert out.to("R") == [RESULT]
    assert published.counts[r.RESULTS_PUBLISHED] == 1
    assert published.counts[r.RESULTS_DELIVERED] == 1
    acked = relay.receive("R", "ack: job-1")
    assert out.to("W") == ['{"type":"ack","guid":"job-1","acknowledgedBy":"R"}']
    assert acked.counts[r.ACKS_ROUTED] == 1
    assert relay.receive("R", "unsubscribe: job-1").outcome == "unsubscribed"


def test_late_subscriber_gets_the_stored_result(world):
    relay, out, _ = world
    published = relay.receive("W", RESULT)
    assert published.outcome == "stored_without_subscriber"
    assert published.counts[r.RESULTS_WITHOUT_SUBSCRIBER] == 1
    late = relay.receive("R", "subscribe: job-1")
    assert out.to("R") == [RESULT]
    assert late.counts[r.LATE_DELIVERIES] == 1


def test_resubscribe_after_reconnect_gets_unacked_result(world):
    relay, out, _ = world
    relay.receive("R1", "subscribe: job-1")
    out.status["R1"] = PostStatus.GONE  # the router's connection died before the post
    relay.receive("W", RESULT)
    assert out.to("R1") == []
    relay.receive("R2", "subscribe: job-1")  # it reconnects and re-subscribes
    assert out.to("R2") == [RESULT]


def test_acked_result_is_not_delivered_to_later_subscribers(world):
    relay, out, _ = world
    relay.receive("R", "subscribe: job-1")
    relay.receive("W", RESULT)
    relay.receive("R", "ack: job-1")
    relay.receive("R2", "subscribe: job-1")
    assert out.to("R2") == []


def test_ack_reaches_every_publisher(world):
    relay, out, _ = world
    relay.receive("W1", RESULT)
    relay.receive("W2", RESULT)  # the worker resent after reconnecting
    relay.receive("R", "subscribe: job-1")
    relay.receive("R", "ack: job-1")
    ack = '{"type":"ack","guid":"job-1","acknowledgedBy":"R"}'
    assert out.to("W1") == [ack] and out.to("W2") == [ack]


def test_publish_after_ack_is_acked_at_once_and_not_relayed(world):
    relay, out, _ = world
    relay.receive("R", "subscribe: job-1")
    relay.receive("W", RESULT)
    relay.receive("R", "ack: job-1")
    out.sent.clear()
    again = relay.receive("W3", RESULT)
    assert again.outcome == "already_acked"
    assert again.counts[r.DUPLICATE_PUBLISHES] == 1
    assert out.sent == [("W3", '{"type":"ack","guid":"job-1","acknowledgedBy":"R"}')]


def test_gone_subscriber_is_removed_and_live_ones_still_get_it(world):
    relay, out, _ = world
    for cid in ("A", "B", "C"):
        relay.receive(cid, "subscribe: job-1")
    out.status["B"] = PostStatus.GONE
    published = relay.receive("W", RESULT)
    assert out.to("A") == [RESULT] and out.to("C") == [RESULT]
    assert published.counts[r.STALE_CONNECTIONS_REMOVED] == 1
    assert published.counts[r.RESULTS_DELIVERED] == 2
    channel = relay.store.subscribe("job-1", "A", relay.clock())
    assert channel.subscribers == {"A", "C"}


def test_failed_posts_are_counted_and_result_stays_stored(world):
    relay, out, _ = world
    relay.receive("R", "subscribe: job-1")
    out.status["R"] = PostStatus.FAILED
    published = relay.receive("W", RESULT)
    assert published.counts[r.POST_FAILURES] == 1
    out.status["R"] = PostStatus.DELIVERED
    relay.receive("R", "subscribe: job-1")
    assert out.to("R") == [RESULT]


def test_too_large_is_counted_as_a_failure(world):
    relay, out, _ = world
    relay.receive("R", "subscribe: job-1")
    out.status["R"] = PostStatus.TOO_LARGE
    published = relay.receive("W", RESULT)
    assert published.counts[r.POST_FAILURES] == 1
    assert any("too_large" in note for note in published.notes)


def test_ack_without_publisher_is_unroutable(world):
    relay, out, _ = world
    relay.receive("R", "subscribe: job-9")
    outcome = relay.receive("R", "ack: job-9")
    assert outcome.outcome == "ack_unroutable"
    assert outcome.counts[r.ACKS_UNROUTABLE] == 1
    assert relay.receive("R", "ack: never").counts[r.ACKS_UNROUTABLE] == 1
    # a bogus ack must not suppress the real result later
    relay.receive("W", '{"guid":"job-9"}')
    assert out.to("R") == ['{"guid":"job-9"}']


def test_result_expires_with_ttl(world):
    relay, out, clock = world
    relay.receive("W", RESULT)
    clock.now += 601
    relay.receive("R", "subscribe: job-1")
    assert out.to("R") == []
    assert relay.receive("R", "ack: job-1").counts[r.ACKS_UNROUTABLE] == 1


def test_delivery_latency_recorded_at_ack(world):
    relay, _, clock = world
    relay.receive("R", "subscribe: job-1")
    relay.receive("W", RESULT)
    clock.now += 0.25
    acked = relay.receive("R", "ack: job-1")
    assert acked.latencies_ms == [pytest.approx(250.0)]


@pytest.mark.parametrize(
    ("frame", "reply", "outcome"),
    [
        ("ping", "pong", "pong"),
        ("hello", "unknown text message", "unknown_text"),
        ('{"x":1}', "unknown object message", "unknown_object"),
    ],
)
def test_replies(world, frame, reply, outcome):
    relay, out, _ = world
    assert relay.receive("C", frame).outcome == outcome
    assert out.to("C") == [reply]


@pytest.mark.parametrize("frame", ["subscribe: bad guid", "{oops", '{"guid":["x"]}'])
def test_rejected_frames_change_nothing_and_connection_stays_usable(world, frame):
    relay, out, _ = world
    assert relay.receive("C", frame).outcome == "rejected"
    assert out.to("C")[0].startswith("error:")
    relay.receive("C", "ping")
    assert out.to("C")[-1] == "pong"


def test_binary_frame_is_rejected(world):
    relay, out, _ = world
    assert relay.receive_binary("C").outcome == "rejected"
    assert out.to("C") == ["error: frame is not UTF-8 text"]


def test_connect_and_disconnect_touch_nothing(world):
    relay, out, _ = world
    assert relay.connect("C").outcome == "connected"
    assert relay.disconnect("C").outcome == "disconnected"
    assert out.sent == []


def test_gone_subscribers_are_left_for_the_ttl_when_running_late(tmp_path):
    clock = Clock()
    out = ScriptedOutbound()
    store = SharedSqliteStore(tmp_path / "late.db", ttl_seconds=600)
    late = Relay(store, out, clock, cleanup_deadline=clock.now - 1)
    late.receive("A", "subscribe: job-1")
    late.receive("B", "subscribe: job-1")
    out.status["B"] = PostStatus.GONE
    published = late.receive("W", RESULT)
    assert published.counts[r.STALE_CONNECTIONS_REMOVED] == 0
    assert any("left for the TTL" in note for note in published.notes)
    assert store.subscribe("job-1", "A", clock.now).subscribers == {"A", "B"}
