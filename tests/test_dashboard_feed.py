"""The dashboard's event feed (`wsrelay.local.dashboard.feed`): how frames and posts are read,
the bounded ring, the coalescing into capped batches, the history a new page gets, and a slow
page dropped rather than buffered; the guard's token and origin checks; `LiveFaults`."""

from __future__ import annotations

import asyncio
import json
import stat

import pytest
from waiting import wait_until_async

from wsrelay.local.dashboard import feed as feed_module
from wsrelay.local.dashboard.feed import Feed, as_dict, frame_of, post_of
from wsrelay.local.dashboard.guard import TOKEN_FILE, Guard, new_token, own_origins
from wsrelay.local.dashboard.observed import LiveFaults
from wsrelay.local.faults import Faults
from wsrelay.local.runtimes.base import Failure, Invocation


class FakeStream:
    """A page that records what it is sent; `backlog` is what its transport holds unsent."""

    def __init__(self, backlog: int = 0) -> None:
        self.sent: list[bytes] = []
        self.backlog = backlog
        self.dropped = False

    def send(self, payload: bytes) -> None:
        self.sent.append(payload)

    def pending(self) -> int:
        return self.backlog

    def drop(self) -> None:
        self.dropped = True

    def batches(self) -> list[list[dict]]:
        """The JSON arrays of the ``data:`` lines sent so far."""
        lines = [p for p in self.sent if p.startswith(b"data: ")]
        assert all(p.endswith(b"\n\n") and p.count(b"\n") == 2 for p in lines)  # one line each
        return [json.loads(p[len(b"data: ") :]) for p in lines]


def record(feed: Feed, count: int, start: int = 0) -> None:
    for i in range(start, start + count):
        feed.post(f"conn-{i}", b'{"guid":"job-%d","code":0}' % i, 200)


def test_frames_are_read_as_the_protocol_reads_them():
    assert frame_of("subscribe: job-1") == ("subscribe", "job-1")
    assert frame_of("unsubscribe: job-1") == ("unsubscribe", "job-1")
    assert frame_of("ack: job-1") == ("ack", "job-1")
    assert frame_of('{"code": 0, "stdout": [], "guid": "job-1"}') == ("publish", "job-1")
    assert frame_of('{"code": 0}') == ("other", None)  # no guid: an unknown object
    assert frame_of("ping") == ("ping", None)
    assert frame_of("hello") == ("other", None)
    big = '{"asm": "' + "x" * 100_000 + '", "guid": "late-guid"}'
    assert frame_of(big) == ("publish", "late-guid")  # found, not parsed


def test_posts_are_told_apart():
    ack = b'{"type":"ack","guid":"job-1","acknowledgedBy":"wsrelay:stored"}'
    assert post_of(ack) == ("ack", "job-1", "wsrelay:stored")
    assert post_of(b'{"guid":"job-1","code":0}') == ("result", "job-1", None)
    assert post_of(b"pong") == ("text", None, None)
    assert post_of(b"\xff\x00") == ("text", None, None)


def test_events_follow_the_documented_schema():
    feed = Feed()
    feed.connect("c1", 1, "subscriber", "127.0.0.1")
    feed.invocation("c1", "$default", Invocation(200, duration_ms=2.5), "subscribe: job-1")
    feed.post("c1", b'{"guid":"job-1"}', 410)
    feed.fault(1, "post-410")
    feed.disconnect("c1", 1000, "Normal closure")
    feed.invocation("c1", "$disconnect", Invocation(200, cold_start=True, duration_ms=1.0), None)
    events = [as_dict(e) for e in feed.ring]
    assert [e["kind"] for e in events] == [
        "connect",
        "invocation",
        "post",
        "fault",
        "disconnect",
        "invocation",
    ]
    assert all(set(e) >= {"kind", "t", "connectionId"} for e in events)
    connect, message, post, fault, disconnect, close = events
    assert connect["role"] == "subscriber" and connect["ordinal"] == 1
    assert message["frame"] == "subscribe" and message["guid"] == "job-1" and message["durationMs"] == 2.5
    assert message["t"] < post["t"]  # an invocation is dated when it started: its posts sort after it
    assert post["status"] == 410 and post["what"] == "result" and post["bytes"] == 16
    assert fault["name"] == "post-410" and fault["connectionId"] == "c1"
    assert disconnect["code"] == 1000 and disconnect["reason"] == "Normal closure"
    assert close["coldStart"] is True and "frame" not in close  # None fields are left out
    assert feed.cold_starts == {"$disconnect": 1}
    assert feed.traffic == {}  # the closed connection's counters are gone


@pytest.mark.parametrize(
    ("invocation", "outcome"),
    [
        (Invocation(200), "ok"),
        (Invocation(400), "ok"),  # the handler answered: the client's fault, not an error
        (Invocation(502), "error"),
        (Invocation(None, Failure.ERROR), "error"),
        (Invocation(None, Failure.THROTTLED), "throttled"),
        (Invocation(None, Failure.TIMEOUT), "timeout"),
    ],
)
def test_an_invocations_outcome(invocation, outcome):
    feed = Feed()
    feed.invocation("c1", "$default", invocation, None)
    assert as_dict(feed.ring[0])["outcome"] == outcome


def test_the_ring_keeps_no_large_message():
    feed = Feed()
    big = '{"asm": "' + "x" * 100_000 + '", "guid": "job-big"}'
    feed.invocation("c1", "$default", Invocation(200), big)
    feed.post("c2", big.encode(), 200)
    assert all(len(repr(event)) < 2000 for event in feed.ring)  # read at once, not kept
    invocation, post = (as_dict(e) for e in feed.ring)
    assert (invocation["frame"], invocation["guid"]) == ("publish", "job-big")
    assert (post["what"], post["guid"], post["bytes"]) == ("result", "job-big", len(big))


def test_traffic_counts_messages_in_and_posts_delivered():
    feed = Feed()
    feed.connect("c1", 1, None, "127.0.0.1")
    feed.invocation("c1", "$default", Invocation(200), "ping")
    feed.post("c1", b"pong", 200)
    feed.post("c1", b"pong", 429)
    assert feed.traffic["c1"] == [1, 1]


def test_the_ring_is_bounded():
    feed = Feed(ring_size=100)
    record(feed, 1000)
    assert len(feed.ring) == 100 and feed.recorded == 1000
    assert as_dict(feed.ring[0])["connectionId"] == "conn-900"  # the newest are kept


def test_events_between_passes_go_out_as_one_batch():
    feed = Feed(batch_cap=50)
    page = FakeStream()
    feed.streams.append(page)
    record(feed, 10)
    feed.flush()
    record(feed, 3, start=10)
    feed.flush()
    feed.flush()  # nothing new: nothing sent
    batches = page.batches()
    assert [len(b) for b in batches] == [10, 3]
    assert [e["connectionId"] for e in batches[1]] == ["conn-10", "conn-11", "conn-12"]


def test_a_batch_is_capped_whatever_the_rate():
    feed = Feed(ring_size=1000, batch_cap=50)
    page = FakeStream()
    feed.streams.append(page)
    record(feed, 400)
    feed.flush()
    (batch,) = page.batches()
    assert len(batch) == 50 and batch[-1]["connectionId"] == "conn-399"  # the newest 50
    assert feed.overflowed == 350
    assert feed.describe()["overflowed"] == 350


def test_a_new_page_gets_the_history_then_only_new_events():
    feed = Feed(ring_size=10, batch_cap=4)
    record(feed, 25)  # no page open: the ring keeps the last 10

    async def scenario() -> FakeStream:
        page = FakeStream()
        feed.attach(page)
        history = page.batches()
        assert [len(b) for b in history] == [4, 4, 2]
        assert history[0][0]["connectionId"] == "conn-15"
        record(feed, 2, start=25)
        await wait_until_async(lambda: len(page.batches()) == 4, what="the first live batch")
        assert [e["connectionId"] for e in page.batches()[3]] == ["conn-25", "conn-26"]
        feed.detach(page)
        await wait_until_async(lambda: feed._pump is None, what="the pump to stop without pages")
        return page

    asyncio.run(scenario())


def test_the_pump_coalesces_on_its_interval():
    feed = Feed(interval_s=0.1)

    async def scenario() -> list[list[dict]]:
        page = FakeStream()
        feed.attach(page)
        for i in range(20):  # all within one interval: one batch
            record(feed, 1, start=i)
        await wait_until_async(lambda: page.batches(), what="a batch")
        feed.close()
        return page.batches()

    assert [len(b) for b in asyncio.run(scenario())] == [20]


def test_a_slow_page_is_dropped_not_buffered():
    feed = Feed()
    slow, fast = FakeStream(backlog=feed_module.STREAM_BUFFER_LIMIT + 1), FakeStream()
    feed.streams += [slow, fast]
    record(feed, 5)
    feed.flush()
    assert slow.dropped and slow.sent == [] and slow not in feed.streams
    assert feed.streams_dropped == 1
    assert len(fast.batches()) == 1 and not fast.dropped


# -- the guard --------------------------------------------------------------------------------------


def test_the_token_file_is_the_owners_only(tmp_path):
    token = new_token(tmp_path)
    path = tmp_path / TOKEN_FILE
    assert path.read_text().strip() == token and len(token) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert new_token(tmp_path) != token  # per run


@pytest.mark.parametrize(
    ("headers", "query", "allowed"),
    [
        ({}, None, False),  # no token
        ({"x-wsrelay-token": "wrong"}, None, False),
        ({"x-wsrelay-token": "T"}, None, True),  # a script: no Origin, the token
        ({}, "T", True),  # a read with ?token=
        ({"x-wsrelay-token": "T", "origin": "http://127.0.0.1:3001"}, None, True),  # the page itself
        ({"x-wsrelay-token": "T", "origin": "http://localhost:3001"}, None, True),
        ({"x-wsrelay-token": "T", "origin": "https://evil.example"}, None, False),  # another site
        ({"x-wsrelay-token": "T", "origin": "http://127.0.0.1:8080"}, None, False),  # another port
        ({"x-wsrelay-token": "T", "origin": "null"}, None, False),  # a sandboxed frame, a file
    ],
)
def test_the_guard_wants_the_token_and_no_foreign_origin(headers, query, allowed):
    guard = Guard("T", own_origins("127.0.0.1", 3001))
    assert (guard.refuse(headers, query) is None) is allowed


# -- live faults ------------------------------------------------------------------------------------


def test_a_live_change_replaces_the_rates_and_ends_reproducibility():
    feed = Feed()
    faults = LiveFaults(Faults(post_429=1.0, seed=7), feed)
    feed.connect("c1", 1, None, "127.0.0.1")
    assert faults.reproducible and faults.post_status(1, 1) == 429
    assert [as_dict(e)["name"] for e in feed.ring if e[0] == "fault"] == ["post-429"]
    faults.replace_rates({"post_410": 1.0})
    assert faults.rates() == {"post_410": 1.0, "post_429": 0.0, "drop_disconnect": 0.0}  # replaced
    assert not faults.reproducible and faults.describe()["fault_seed_reproducible"] is False
    assert faults.post_status(1, 2) == 410
    faults.replace_rates({"drop_disconnect": 1.0})
    assert faults.post_status(1, 3) is None and faults.drops_disconnect(1)
    assert feed.faults_seen == {"post-429": 1, "post-410": 1, "drop-disconnect": 1}
    assert feed.ids_by_ordinal == {}  # the closed connection's ordinal is forgotten


def test_a_live_change_clears_the_fault_window_and_keeps_the_base_figures():
    """Built over `Faults` with a window that has not begun, no post faults; a live change ends
    the window: its rates apply at once, and the injections are counted as the base counts them."""
    faults = LiveFaults(Faults(post_429=1.0, seed=7, window_s=(1000.0, 2000.0)), Feed())
    faults.start()
    assert faults.on_post(1, 1) is None  # outside the window
    assert faults.describe()["fault_window_s"] == [1000.0, 2000.0]
    faults.replace_rates({"post_429": 1.0})
    assert faults.on_post(1, 2) == 429
    described = faults.describe()
    assert described["fault_window_s"] is None and described["fault_seed"] == 7
    assert described["faults_injected"]["by_kind"] == {"post-429": 1}
    assert described["fault_seed_reproducible"] is False
