"""The relay in the simulation: each client frame is an invocation on the compute mode (which may
throttle or fail it, and says when it ends) whose effect the semantics decide; results and acks
are posted to the routers and workers when the invocation ends."""

from __future__ import annotations

import random
from collections.abc import Callable, Hashable
from functools import partial

import simpy

from wsrelay.tools.simulate.compute import Compute
from wsrelay.tools.simulate.jobs import Job
from wsrelay.tools.simulate.semantics import LegacySemantics, Semantics, WsrelaySemantics
from wsrelay.tools.simulate.streams import LogNormal
from wsrelay.tools.simulate.timers import at

Conn = Hashable


class RelayService:
    """subscribe / unsubscribe / publish / ack as the clients send them."""

    def __init__(
        self,
        env: simpy.Environment,
        compute: Compute,
        semantics: Semantics,
        lag: LogNormal,
        ack_lag: LogNormal,
        lag_rng: random.Random,
    ) -> None:
        self.env = env
        self.compute = compute
        self.semantics = semantics
        self.lag = lag
        self.ack_lag = ack_lag
        self.lag_rng = lag_rng
        # wired by the model: post a result to a router connection (False: 410 Gone), an ack to a worker
        self.post_result: Callable[[Job, Conn], bool] = lambda job, conn: False
        self.post_ack: Callable[[Job, Conn], None] = lambda job, conn: None
        self.latency = 0.0  # seconds from a frame to its invocation and from a post to its client
        self.no_listeners = 0
        self.acks_unroutable = 0

    def _lag(self) -> float:
        return self.lag.draw(self.lag_rng)

    def subscribe(self, job: Job, conn: Conn) -> None:
        """A router subscribes `conn` to the job's guid."""
        end = self.compute.admit("subscribe", self.env.now + self.latency)
        if end is None:
            return  # the frame is lost; the router does not know
        s = self.semantics
        if isinstance(s, LegacySemantics):
            s.subscribe(job.id, conn, end, self._lag())
        elif s.subscribe(job.id, conn, end):
            at(self.env, end + self.latency - self.env.now, lambda: self._deliver_stored(job, conn))

    def unsubscribe(self, job: Job, conn: Conn) -> None:
        """A router unsubscribes (after its ack, or when it gives up)."""
        end = self.compute.admit("unsubscribe", self.env.now + self.latency)
        if end is None:
            return
        s = self.semantics
        if isinstance(s, LegacySemantics):
            s.unsubscribe(job.id, conn, end, self._lag())
        else:
            s.unsubscribe(job.id, conn)

    def publish(self, job: Job, conn: Conn) -> None:
        """A worker publishes (or resends) the job's result over `conn`."""
        end = self.compute.admit("publish", self.env.now + self.latency)
        if end is not None:
            at(self.env, end + self.latency - self.env.now, lambda: self._published(job, conn))

    def _published(self, job: Job, conn: Conn) -> None:
        now = self.env.now
        s = self.semantics
        if isinstance(s, LegacySemantics):
            result = s.publish(job.id, conn, now, self.ack_lag.draw(self.lag_rng))
            self.no_listeners += result.no_listeners
        else:
            result = s.publish(job.id, conn, now)
            if result.ack_publisher:
                self.post_ack(job, conn)
            for later, effective_at in result.deliver_later:
                at(self.env, effective_at - now, partial(self._deliver_stored, job, later))
        for subscriber in result.deliver:
            self._post(job, subscriber)

    def _deliver_stored(self, job: Job, conn: Conn) -> None:
        s = self.semantics
        if isinstance(s, WsrelaySemantics) and s.holds_for(job.id, conn):
            self._post(job, conn)

    def _post(self, job: Job, conn: Conn) -> None:
        if not self.post_result(job, conn):
            self.semantics.gone(job.id, conn)

    def ack(self, job: Job, conn: Conn) -> None:
        """A router acks the job's result over `conn`."""
        end = self.compute.admit("ack", self.env.now + self.latency)
        if end is not None:
            at(self.env, end + self.latency - self.env.now, lambda: self._acked(job, conn))

    def _acked(self, job: Job, conn: Conn) -> None:
        publishers = self.semantics.ack(job.id, conn, self.env.now)
        if not publishers:
            self.acks_unroutable += 1
        for publisher in publishers:
            self.post_ack(job, publisher)
