"""A model of the legacy Node relay (`events-onconnect`, `events-sendmessage`,
`events-ondisconnect`): it is not Python, so unlike wsrelay it cannot run in the simulation.
Rule by rule against its behaviour (docs/protocol.md, "The legacy relay": its storage and its
defects 1-7):

1. `$connect` writes ``{connectionId, ttl}``; nothing reads it to deliver: no effect here.
2. ``subscribe: <guid>`` writes ``<connId>#<guid>`` (attribute ``subscription``); publishes find
   subscribers through the GSI ``SubscriptionIndex``, which is eventually consistent: the
   subscription becomes visible after an index lag (lognormal, ``--legacy-lag-*``) (defect 1).
3. ``unsubscribe: <guid>`` deletes that item; the index still shows it for another lag.
4. A publish overwrites ``guid-sender#<guid>`` (``senderConnectionId``: the last publisher only),
   queries the index, and with nobody visible fails "No listeners": the result is gone (the
   worker's resend may find the subscriber later) (defect 3). Otherwise it posts to each
   subscriber in turn; a 410 deletes nothing; any other error would abort the remaining posts
   (defect 4; the model has no such errors).
5. ``ack: <guid>`` reads ``guid-sender#<guid>`` with an eventually consistent read: a record
   written less than the read lag ago (``--legacy-ack-lag-*``) is not seen and the ack is
   dropped silently (defect 6); otherwise the ack goes to that one sender, never to an earlier
   publisher of the guid (a duplicate compile's worker is never acked).
6. `$disconnect` scans for the connection's items (defect 5): no effect on delivery here (posts
   to a closed connection get 410 and are ignored either way).
7. Per-container caches (defect 2) are not modelled: the lags are their net effect.

Connections and guids are strings; every collection is a dict (ordered), never a set, so every
outcome is the same in every process.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import simpy

from wsrelay import protocol
from wsrelay.tools.simulate.compute import Functions
from wsrelay.tools.simulate.relay_service import RelayFront
from wsrelay.tools.simulate.streams import LogNormal
from wsrelay.tools.simulate.switchboard import Switchboard

NO_LISTENERS = "NoListeners"
ACKS_DROPPED = "AcksDropped"
ACKS_RELAYED = "AcksRelayed"
RESULTS_POSTED = "ResultsPosted"


@dataclass
class _Subscription:
    visible_at: float
    hidden_at: float = float("inf")


class LegacySemantics:
    """Rules 2-5 as a pure state machine: the caller passes the time and each write's lag."""

    def __init__(self) -> None:
        self.subscriptions: dict[str, dict[str, _Subscription]] = {}
        self.senders: dict[str, tuple[str, float]] = {}  # guid -> (last sender, readable from)

    def subscribe(self, guid: str, conn: str, now: float, lag: float = 0.0) -> None:
        """Rule 2: the subscription is written at `now`, visible in the index `lag` later."""
        self.subscriptions.setdefault(guid, {})[conn] = _Subscription(now + lag)

    def unsubscribe(self, guid: str, conn: str, now: float, lag: float = 0.0) -> None:
        """Rule 3: deleted at `now`; the index still shows it for `lag`."""
        found = self.subscriptions.get(guid, {}).get(conn)
        if found is not None:
            found.hidden_at = min(found.hidden_at, now + lag)

    def visible_subscribers(self, guid: str, now: float) -> list[str]:
        """Subscribers the index returns at `now`."""
        return [c for c, s in self.subscriptions.get(guid, {}).items() if s.visible_at <= now < s.hidden_at]

    def publish(self, guid: str, conn: str, now: float, read_lag: float = 0.0) -> list[str]:
        """Rule 4: record `conn` as the sender (readable after `read_lag`); the subscribers to
        post to (empty: "No listeners", the result is gone)."""
        self.senders[guid] = (conn, now + read_lag)
        return self.visible_subscribers(guid, now)

    def ack(self, guid: str, now: float) -> str | None:
        """Rule 5: the last sender if its record is readable at `now`, else None (dropped)."""
        sender = self.senders.get(guid)
        if sender is None or sender[1] > now:
            return None
        return sender[0]


class LegacyRelay(RelayFront):
    """The legacy relay's rules behind API Gateway and the compute mode."""

    def __init__(
        self,
        env: simpy.Environment,
        functions: Functions,
        switchboard: Switchboard,
        index_lag: LogNormal,
        read_lag: LogNormal,
        rng: random.Random,
    ) -> None:
        super().__init__(env, functions, switchboard)
        self.rules = LegacySemantics()
        self.index_lag = index_lag
        self.read_lag = read_lag
        self.rng = rng

    def handle(self, connection_id: str, text: str) -> None:
        now = self.env.now
        match protocol.parse_frame(text):
            case protocol.Subscribe(guid):
                self.rules.subscribe(guid, connection_id, now, self.index_lag.draw(self.rng))
            case protocol.Unsubscribe(guid):
                self.rules.unsubscribe(guid, connection_id, now, self.index_lag.draw(self.rng))
            case protocol.Publish(guid, raw):
                found = self.rules.publish(guid, connection_id, now, self.read_lag.draw(self.rng))
                if not found:
                    self.counts[NO_LISTENERS] += 1
                for subscriber in found:  # in turn; a 410 is ignored
                    self.counts[RESULTS_POSTED] += self.switchboard.post(subscriber, raw)
            case protocol.Acknowledge(guid):
                sender = self.rules.ack(guid, now)
                if sender is None:
                    self.counts[ACKS_DROPPED] += 1
                else:
                    self.counts[ACKS_RELAYED] += 1
                    self.switchboard.post(sender, protocol.ack_frame(guid, connection_id))
            case _:
                pass  # ping and unknown frames: the clients of the model send none
