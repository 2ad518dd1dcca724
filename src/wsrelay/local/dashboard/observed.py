"""The gateway's connections, faults and invocations as the dashboard sees them: subclasses of
`Connections` and `Faults` that record into the `Feed` what they do, and the invoker's
observer. They change nothing the gateway decides, except that `LiveFaults` lets the page (or
a script) replace the fault rates while the stack runs.

Subclasses, not edits in the base classes: without ``--dashboard`` the gateway runs the base
classes untouched, and the dashboard's cost stays in this package.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from wsrelay.local.connection import Connection
from wsrelay.local.dashboard.feed import Feed
from wsrelay.local.faults import Faults, draw
from wsrelay.local.open_connections import Connections
from wsrelay.local.runtimes.base import Event, Invocation
from wsrelay.local.settings import GatewaySettings
from wsrelay.local.stats import GatewayStats

FAULT_RATES = ("post_410", "post_429", "drop_disconnect")


class ObservedConnections(Connections):
    """`Connections` that record connects, disconnects and posts."""

    def __init__(self, settings: GatewaySettings, stats: GatewayStats, faults: Faults, feed: Feed) -> None:
        super().__init__(settings, stats, faults)
        self.feed = feed

    def add(self, conn: Connection) -> None:
        super().add(conn)
        role = conn.info.authorizer.get("role") if conn.info.authorizer else None
        self.feed.connect(
            conn.connection_id, conn.ordinal, None if role is None else str(role), conn.info.source_ip
        )

    def remove(self, conn: Connection) -> None:
        known = conn.connection_id in self.by_id
        super().remove(conn)
        if known:  # once per connection, with the close `$disconnect` will report
            self.feed.disconnect(conn.connection_id, *conn.close_status())

    def post_now(self, connection_id: str, data: bytes) -> int:
        status = super().post_now(connection_id, data)
        self.feed.post(connection_id, data, status)
        return status

    def describe_all(self) -> list[dict[str, Any]]:
        """Every open connection: id, ordinal, times (epoch seconds), role, source, traffic."""
        rows = []
        for conn in self.by_id.values():
            info = conn.info
            role = info.authorizer.get("role") if info.authorizer else None
            messages_in, messages_out = self.feed.traffic.get(conn.connection_id, (0, 0))
            rows.append(
                {
                    "connectionId": conn.connection_id,
                    "ordinal": conn.ordinal,
                    "connectedAt": info.connected_at_ms / 1000,
                    "lastActiveAt": round(conn.last_active, 3),
                    "role": role,
                    "sourceIp": info.source_ip,
                    "messagesIn": messages_in,
                    "messagesOut": messages_out,
                    "posts": conn.posts,
                }
            )
        return rows


class LiveFaults(Faults):
    """`Faults` that record each fault injected, and whose rates a live change replaces.

    Before any live change every decision is the base class's (the seed's, reproducible). A live
    change replaces the three rates, ends any fault window (faults apply from then on, at the new
    rates) and makes the run no longer reproducible from its seed: decisions still come from
    the seed and the connection's counters, but at rates that changed at a moment no seed says.
    """

    def __init__(self, base: Faults, feed: Feed) -> None:
        super().__init__(base.post_410, base.post_429, base.drop_disconnect, base.seed)
        # Whatever else the base carries (a fault window, counters) is kept as it was built.
        for name, value in vars(base).items():
            setattr(self, name, value)
        self.feed = feed
        self.live_changes: list[dict[str, float]] = []

    @property
    def reproducible(self) -> bool:
        return not self.live_changes

    def rates(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in FAULT_RATES}

    def replace_rates(self, rates: dict[str, float]) -> dict[str, float]:
        """Set the three rates (a rate not given is 0); returns them."""
        new = {name: float(rates.get(name, 0.0)) for name in FAULT_RATES}
        for name, value in new.items():
            setattr(self, name, value)
        self.window_s = None  # a live change clears the fault window: the new rates apply now
        self.live_changes.append({"t": round(time.time(), 3), **new})
        return new

    def post_status(self, ordinal: int, post: int) -> int | None:
        if self.live_changes:  # the live rates, at any time: the window (if any) was cleared
            status = None
            if self.post_410 and draw(self.seed, "post-410", ordinal, post) < self.post_410:
                status = 410
            elif self.post_429 and draw(self.seed, "post-429", ordinal, post) < self.post_429:
                status = 429
        else:
            status = super().post_status(ordinal, post)
        if status is not None:
            self.feed.fault(ordinal, f"post-{status}")
        return status

    def drops_disconnect(self, ordinal: int) -> bool:
        if self.live_changes:
            dropped = bool(self.drop_disconnect) and (
                draw(self.seed, "disconnect", ordinal, 0) < self.drop_disconnect
            )
        else:
            dropped = super().drops_disconnect(ordinal)
        if dropped:
            self.feed.fault(ordinal, "drop-disconnect")
        self.feed.forget_ordinal(ordinal)  # asked once per close, the last use of the ordinal
        return dropped

    def describe(self) -> dict[str, Any]:
        """What the stats document says about the faults with the dashboard on: the base's (seed,
        window, injected) and the live rates."""
        return {
            **super().describe(),
            "fault_rates": self.rates(),
            "fault_seed_reproducible": self.reproducible,
            "fault_live_changes": self.live_changes[-20:],
        }


def invocation_observer(feed: Feed) -> Callable[[str, Event, Invocation], None]:
    """The invoker's observer: each accounted invocation into the feed."""

    def observe(route: str, event: Event, invocation: Invocation) -> None:
        body = event.get("body")
        text = body if isinstance(body, str) and not event.get("isBase64Encoded") else None
        feed.invocation(event["requestContext"]["connectionId"], route, invocation, text)

    return observe
