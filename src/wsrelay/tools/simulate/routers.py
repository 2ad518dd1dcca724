"""The routers (ce-router's `websocket-manager.ts`, `result-waiter.ts`; docs/protocol.md): each
holds one WebSocket (`link.Link`: reopened every 5 s, 10 tries, then its health check fails and
the load balancer sends it no more jobs), subscribes to a job's guid, enqueues it ~50 ms later,
waits 60 s for the result (then HTTP 408); on a result it acks at once (only if its socket is
connected then; never retried) and unsubscribes; after a reconnect it resubscribes the guids
younger than 60 s."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import simpy

from wsrelay import protocol
from wsrelay.tools.simulate.jobs import DELIVERED, PENDING, Job, guid_of, job_of
from wsrelay.tools.simulate.link import Link, fixed_delay
from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.relay_service import RelayFront
from wsrelay.tools.simulate.timers import TimerQueue, at


@dataclass(eq=False)
class Router:
    """One router process: its connection and the jobs it waits for."""

    index: int
    link: Link | None = None
    pending: dict[int, Job] = field(default_factory=dict)

    @property
    def connection(self) -> Link:
        """The router's link (set at construction)."""
        assert self.link is not None
        return self.link


class Routers:
    """All routers, the jobs they wait for, and their 60 s timeouts."""

    def __init__(
        self,
        env: simpy.Environment,
        config: SimConfig,
        front: RelayFront,
        enqueue: Callable[[Job], None],
        rng: random.Random,
    ) -> None:
        self.env = env
        self.config = config
        self.front = front
        self.enqueue = enqueue
        self.routers = [Router(i) for i in range(config.routers)]
        self.next_router = 0
        self.on_end: Callable[[Job], None] = lambda job: None
        self.timeouts: TimerQueue[Job] = TimerQueue(env, lambda job: job.state != PENDING, self._give_up)
        self.jobs = 0
        self.dead_routers = 0
        policy = fixed_delay(config.reconnect_delay_s, config.reconnect_tries)
        for router in self.routers:
            endpoint = _RouterEndpoint(self, router)
            router.link = Link(
                env,
                front,
                endpoint,
                f"r{router.index}",
                config.connection_max_s,
                policy,
                on_up=partial(self._resubscribe, router),
                on_dead=self._router_died,
            )
            # connections were opened at random times before the run: ages spread over [0, 2 h)
            router.link.open_existing(rng.uniform(0, config.connection_max_s))

    @property
    def reconnects(self) -> int:
        """Reconnects of every router."""
        return sum(r.connection.reconnects for r in self.routers)

    def in_system(self) -> int:
        """Jobs the routers are waiting for."""
        return sum(len(r.pending) for r in self.routers)

    def drop_all(self) -> None:
        """Every router's connection closes at once (the reconnect scenario's outage)."""
        for router in self.routers:
            router.connection.drop()

    def new_job(self, job_id: int) -> Job:
        """A request arrives: pick a healthy router, subscribe, enqueue 50 ms later."""
        now = self.env.now
        self.jobs += 1
        router = self._pick()
        job = Job(job_id, router.index, now, now + self.config.router_timeout_s)
        router.pending[job.id] = job
        self.timeouts.add(job.deadline, job)
        link = router.connection
        if link.up:
            self.front.send(link.id, protocol.SUBSCRIBE_PREFIX + guid_of(job.id), "subscribe")
        at(self.env, self.config.subscribe_delay_s, lambda: self.enqueue(job))
        return job

    def _pick(self) -> Router:
        for _ in range(len(self.routers)):
            router = self.routers[self.next_router]
            self.next_router = (self.next_router + 1) % len(self.routers)
            if not router.connection.dead:
                return router
        return self.routers[0]  # every router dead: the jobs still arrive, and time out

    def receive(self, router: Router, connection_id: str, text: str) -> None:
        """A frame posted to the router's connection `connection_id`."""
        link = router.connection
        if connection_id != link.id or not link.up:
            return  # posted to a connection that is gone by now
        found = job_of(text)
        if found is None or found[1]:
            return
        job = router.pending.pop(found[0], None)
        if job is None or job.state != PENDING:
            return  # a result it no longer waits for is ignored
        job.state = DELIVERED
        job.delivered_at = self.env.now
        self.on_end(job)
        guid = guid_of(job.id)
        self.front.send(link.id, protocol.ACK_PREFIX + guid, "ack")
        self.front.send(link.id, protocol.UNSUBSCRIBE_PREFIX + guid, "unsubscribe")

    def _give_up(self, job: Job) -> None:
        router = self.routers[job.router]
        router.pending.pop(job.id, None)
        job.end(self.env.now)
        self.on_end(job)
        link = router.connection
        if link.up:
            self.front.send(link.id, protocol.UNSUBSCRIBE_PREFIX + guid_of(job.id), "unsubscribe")

    def _resubscribe(self, router: Router) -> None:
        young = self.env.now - self.config.resubscribe_window_s
        link = router.connection
        for job in list(router.pending.values()):
            if job.arrival > young:
                self.front.send(link.id, protocol.SUBSCRIBE_PREFIX + guid_of(job.id), "subscribe")

    def _router_died(self) -> None:
        self.dead_routers += 1


@dataclass(eq=False)
class _RouterEndpoint:
    """What API Gateway delivers to one router."""

    routers: Routers
    router: Router

    def on_frame(self, connection_id: str, text: str) -> None:
        self.routers.receive(self.router, connection_id, text)

    def on_closed(self, connection_id: str) -> None:
        self.router.connection.closed_by_relay(connection_id)
