"""What the relay does with subscribe, publish, ack and unsubscribe: the legacy Node relay and
wsrelay, as pure state machines over guids and connections (no SimPy, no randomness: the caller
passes the time and, for the legacy relay, the index lag of each write).

- wsrelay: one item per guid, strongly consistent; a result is stored until acked, so a
  subscriber that arrives later (or resubscribes after a reconnect) gets it; an ack goes to every
  publisher; a resend after the ack is acked at once.
- legacy: subscriptions are found through an eventually consistent index (a write becomes
  visible after a lag); a publish that finds nobody fails ("No listeners") and the result is
  gone; the ack goes to the last publisher only, found through a read that lags the same way.

Connections and guids are any hashable values; every collection is a dict (ordered), never a set,
so every outcome is the same in every process.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field

Conn = Hashable
Guid = Hashable


@dataclass
class PublishResult:
    """Where a publish goes: results to post now, and whether the publisher is acked at once."""

    deliver: list[Conn]
    ack_publisher: bool = False
    no_listeners: bool = False
    # subscribers whose subscribe is still running: the stored result reaches them when it ends
    deliver_later: list[tuple[Conn, float]] = field(default_factory=list)


@dataclass
class _Channel:
    subscribers: dict[Conn, float] = field(default_factory=dict)  # conn -> effective at
    publishers: dict[Conn, None] = field(default_factory=dict)
    stored: bool = False
    acked_by: Conn | None = None


class WsrelaySemantics:
    """wsrelay's delivery rules (docs/protocol.md), one channel per guid."""

    name = "wsrelay"

    def __init__(self) -> None:
        self.channels: dict[Guid, _Channel] = {}

    def subscribe(self, guid: Guid, conn: Conn, effective_at: float) -> bool:
        """Subscribe from `effective_at` (when the UpdateItem completes); True if a stored,
        unacked result is posted to `conn` then."""
        channel = self.channels.setdefault(guid, _Channel())
        channel.subscribers[conn] = effective_at
        return channel.stored and channel.acked_by is None

    def unsubscribe(self, guid: Guid, conn: Conn) -> None:
        """Stop delivering `guid` to `conn`."""
        channel = self.channels.get(guid)
        if channel is not None:
            channel.subscribers.pop(conn, None)

    gone = unsubscribe  # a 410 from a post removes that subscriber the same way

    def publish(self, guid: Guid, conn: Conn, now: float) -> PublishResult:
        """Store the result and post it to every subscriber whose subscribe has completed."""
        channel = self.channels.setdefault(guid, _Channel())
        channel.publishers[conn] = None
        if channel.acked_by is not None:
            return PublishResult([], ack_publisher=True)
        channel.stored = True
        now_list = [c for c, at in channel.subscribers.items() if at <= now]
        later = [(c, at) for c, at in channel.subscribers.items() if at > now]
        return PublishResult(now_list, deliver_later=later)

    def holds_for(self, guid: Guid, conn: Conn) -> bool:
        """True if a stored, unacked result is still to be posted to subscriber `conn`."""
        channel = self.channels.get(guid)
        return (
            channel is not None
            and channel.stored
            and channel.acked_by is None
            and conn in channel.subscribers
        )

    def ack(self, guid: Guid, conn: Conn, now: float) -> list[Conn]:
        """Remove the stored result; the publishers to post the ack to (all of them)."""
        channel = self.channels.get(guid)
        if channel is None or not channel.publishers:
            return []
        channel.acked_by = conn
        channel.stored = False
        return list(channel.publishers)


@dataclass
class _Subscription:
    visible_at: float
    hidden_at: float = float("inf")


class LegacySemantics:
    """The legacy relay's rules: lagging index, "No listeners" loss, ack to the last publisher."""

    name = "legacy"

    def __init__(self) -> None:
        self.subscriptions: dict[Guid, dict[Conn, _Subscription]] = {}
        self.senders: dict[Guid, tuple[Conn, float]] = {}

    def subscribe(self, guid: Guid, conn: Conn, effective_at: float, lag: float = 0.0) -> bool:
        """Write the subscription at `effective_at`; the index shows it `lag` seconds later.
        Nothing is stored, so nothing is posted (returns False)."""
        self.subscriptions.setdefault(guid, {})[conn] = _Subscription(effective_at + lag)
        return False

    def unsubscribe(self, guid: Guid, conn: Conn, now: float = 0.0, lag: float = 0.0) -> None:
        """Delete the subscription; the index still shows it for `lag` seconds."""
        found = self.subscriptions.get(guid, {}).get(conn)
        if found is not None:
            found.hidden_at = min(found.hidden_at, now + lag)

    def gone(self, guid: Guid, conn: Conn) -> None:
        """A 410: the legacy Node relay deletes nothing on it (the scan on $disconnect does, later)."""

    def visible_subscribers(self, guid: Guid, now: float) -> list[Conn]:
        """Subscribers the index returns at `now`."""
        return [c for c, s in self.subscriptions.get(guid, {}).items() if s.visible_at <= now < s.hidden_at]

    def publish(self, guid: Guid, conn: Conn, now: float, lag: float = 0.0) -> PublishResult:
        """Record the sender (visible after `lag`), look subscribers up in the index, post to
        them; with none visible the publish fails and the result is lost."""
        self.senders[guid] = (conn, now + lag)
        found = self.visible_subscribers(guid, now)
        return PublishResult(found, no_listeners=not found)

    def ack(self, guid: Guid, conn: Conn, now: float) -> list[Conn]:
        """The last publisher, if its sender record is readable yet; else the ack is dropped."""
        sender = self.senders.get(guid)
        if sender is None or sender[1] > now:
            return []
        return [sender[0]]


Semantics = WsrelaySemantics | LegacySemantics


def make(name: str) -> Semantics:
    """The semantics called `name` ("legacy" or "wsrelay")."""
    if name == "legacy":
        return LegacySemantics()
    if name == "wsrelay":
        return WsrelaySemantics()
    raise ValueError(f"unknown relay semantics {name!r}")
