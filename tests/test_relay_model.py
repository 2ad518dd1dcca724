"""Model-based test of the relay: random interleavings of subscribe, unsubscribe, publish, ack,
dead connections and time, on the real relay and SQLite store, against a model of the
delivery rules. Every step checks exactly which frames went to which connection."""

from __future__ import annotations

import json

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from wsrelay.ports import PostReport, PostResult, PostStatus
from wsrelay.protocol import ack_frame
from wsrelay.relay import Relay
from wsrelay.stores.sqlite_shared import SharedSqliteStore

TTL = 10
GUIDS = st.sampled_from(["g1", "g2"])
ROUTERS = st.sampled_from(["R1", "R2", "R3"])
WORKERS = st.sampled_from(["W1", "W2"])


class Recorder:
    def __init__(self) -> None:
        self.dead: set[str] = set()
        self.sent: list[tuple[str, str]] = []

    def post(self, ids, data):
        results = []
        for cid in ids:
            if cid in self.dead:
                results.append(PostResult(cid, PostStatus.GONE))
            else:
                self.sent.append((cid, data))
                results.append(PostResult(cid, PostStatus.DELIVERED))
        return PostReport(results)


class Guid:
    """The model of one guid's item."""

    def __init__(self) -> None:
        self.subscribers: set[str] = set()
        self.publishers: set[str] = set()
        self.result: str | None = None
        self.acked_by: str | None = None
        self.expires = 0.0


class RelayModel(RuleBasedStateMachine):
    @initialize()
    def setup(self) -> None:
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.now = 1_000_000.0
        self.out = Recorder()
        self.relay = Relay(SharedSqliteStore(f"{self.tmp.name}/m.db", TTL), self.out, lambda: self.now)
        self.items: dict[str, Guid] = {}
        self.serial = 0

    def teardown(self) -> None:
        self.tmp.cleanup()

    def live(self, guid: str) -> Guid | None:
        item = self.items.get(guid)
        return item if item is not None and item.expires >= self.now else None

    def touch(self, guid: str) -> Guid:
        item = self.live(guid) or Guid()
        item.expires = self.now + TTL
        self.items[guid] = item
        return item

    def expect(self, *frames: tuple[str, str]) -> None:
        assert sorted(self.out.sent) == sorted(frames)
        self.out.sent.clear()

    def deliver(self, item: Guid, targets: set[str], data: str) -> list[tuple[str, str]]:
        """Posts to `targets`; dead ones are removed from the item's subscribers."""
        for dead in targets & self.out.dead:
            item.subscribers.discard(dead)
        return [(cid, data) for cid in targets - self.out.dead]

    @rule(router=ROUTERS, guid=GUIDS)
    def subscribe(self, router: str, guid: str) -> None:
        self.relay.receive(router, f"subscribe: {guid}")
        item = self.touch(guid)
        item.subscribers.add(router)
        frames = []
        if item.result is not None and item.acked_by is None:
            frames = self.deliver(item, {router}, item.result)
        self.expect(*frames)

    @rule(router=ROUTERS, guid=GUIDS)
    def unsubscribe(self, router: str, guid: str) -> None:
        self.relay.receive(router, f"unsubscribe: {guid}")
        if self.live(guid) is not None:
            self.touch(guid).subscribers.discard(router)
        self.expect()

    @rule(worker=WORKERS, guid=GUIDS)
    def publish(self, worker: str, guid: str) -> None:
        self.serial += 1
        raw = json.dumps({"guid": guid, "n": self.serial})
        self.relay.receive(worker, raw)
        item = self.live(guid)
        if item is not None and item.acked_by is not None:
            frames = [] if worker in self.out.dead else [(worker, ack_frame(guid, item.acked_by))]
        else:
            item = self.touch(guid)
            item.publishers.add(worker)
            item.result = raw
            frames = self.deliver(item, set(item.subscribers), raw)
        self.expect(*frames)

    @rule(router=ROUTERS, guid=GUIDS)
    def ack(self, router: str, guid: str) -> None:
        self.relay.receive(router, f"ack: {guid}")
        item = self.live(guid)
        frames = []
        if item is not None and item.publishers:
            item = self.touch(guid)
            item.acked_by, item.result = router, None
            alive = item.publishers - self.out.dead
            frames = [(worker, ack_frame(guid, router)) for worker in alive]
        self.expect(*frames)

    @rule(connection=st.sampled_from(["R1", "R2", "R3", "W1", "W2"]))
    def connection_dies(self, connection: str) -> None:
        self.out.dead.add(connection)

    @rule(seconds=st.sampled_from([1, 4, 11]))
    def time_passes(self, seconds: int) -> None:
        self.now += seconds

    @invariant()
    def nothing_unexpected_was_sent(self) -> None:
        assert self.out.sent == []


TestRelayModel = RelayModel.TestCase
TestRelayModel.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
