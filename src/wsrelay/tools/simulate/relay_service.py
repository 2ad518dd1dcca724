"""The relay as the clients reach it: API Gateway turns each client frame into an invocation of
a relay function (`compute.Functions`), which may be refused (throttled, or failed in an
outage: the frame is lost, and the clients never retry a frame) or ends at a time the compute
mode decides; the relay's logic runs when it ends.

Two relays sit behind this front:

- `ProductRelay`: wsrelay itself, `wsrelay.relay.Relay` (the code Lambda runs) over the
  in-memory store (`wsrelay.stores.memory.MemoryStore`) on the simulation's clock, posting
  through `SimOutbound`. Nothing of its delivery rules is copied here.
- `legacy.LegacyRelay`: a model of the legacy Node relay, which is not Python (rule by rule in
  its module).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import simpy

from wsrelay.relay import Relay
from wsrelay.stores.memory import MemoryStore
from wsrelay.tools.simulate.compute import Functions
from wsrelay.tools.simulate.switchboard import Endpoint, SimOutbound, Switchboard
from wsrelay.tools.simulate.timers import at


class RelayFront:
    """API Gateway and the relay's functions in front of a relay's logic (`handle`)."""

    def __init__(self, env: simpy.Environment, functions: Functions, switchboard: Switchboard) -> None:
        self.env = env
        self.functions = functions
        self.switchboard = switchboard
        self.latency = switchboard.latency_s
        self.counts: Counter[str] = Counter()  # what the relay's logic reported, by metric name

    def send(self, connection_id: str, text: str, op: str) -> None:
        """A client sends `text` (operation `op`, for its CPU time) on `connection_id`."""
        now = self.env.now
        end = self.functions.sendmessage.admit(op, now + self.latency)
        if end is not None:
            at(self.env, end - now, lambda: self.handle(connection_id, text))

    def connect(self, connection_id: str, endpoint: Endpoint, done: Callable[[bool], None]) -> None:
        """A client opens `connection_id` through `$connect`; `done(True)` once it exists,
        `done(False)` when `$connect` was refused (the client's answer comes a round trip later)."""
        now = self.env.now
        end = self.functions.onconnect.admit("onconnect", now + self.latency)
        if end is None:
            at(self.env, 2 * self.latency, lambda: done(False))
            return

        def established() -> None:
            self.switchboard.opened(connection_id, endpoint)
            self.on_connect(connection_id)
            done(True)

        at(self.env, end - now, established)

    def handle(self, connection_id: str, text: str) -> None:
        """The relay's logic for one client frame, at the end of its invocation."""
        raise NotImplementedError

    def on_connect(self, connection_id: str) -> None:
        """The relay's `$connect` logic."""

    def tidy(self, now: float) -> None:
        """Periodic housekeeping (the store's TTL)."""


class ProductRelay(RelayFront):
    """wsrelay: `wsrelay.relay.Relay` with the given publisher ack mode."""

    def __init__(
        self,
        env: simpy.Environment,
        functions: Functions,
        switchboard: Switchboard,
        publisher_ack: str,
        ttl_s: float,
    ) -> None:
        super().__init__(env, functions, switchboard)
        self.store = MemoryStore(ttl_s)
        self.relay = Relay(self.store, SimOutbound(switchboard), lambda: env.now, publisher_ack=publisher_ack)

    def handle(self, connection_id: str, text: str) -> None:
        outcome = self.relay.receive(connection_id, text)
        self.counts.update(outcome.counts)

    def on_connect(self, connection_id: str) -> None:
        self.relay.connect(connection_id)

    def tidy(self, now: float) -> None:
        self.store.expire(now)
