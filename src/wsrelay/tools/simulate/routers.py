"""The routers: each holds one WebSocket (closed by API Gateway after 2 h, reopened after a fixed
delay, up to 10 tries, then its health check fails), subscribes to a job's guid, enqueues it
~50 ms later, waits 60 s for the result (then HTTP 408), acks and unsubscribes; after a
reconnect it resubscribes the guids younger than 60 s."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

import simpy

from wsrelay.tools.simulate.jobs import DELIVERED, PENDING, Job
from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.relay_service import RelayService
from wsrelay.tools.simulate.timers import TimerQueue, at


@dataclass(eq=False)
class Router:
    """One router process and its connection."""

    index: int
    generation: int = 0
    connected: bool = True
    dead: bool = False
    tries: int = 0
    pending: dict[int, Job] = field(default_factory=dict)

    @property
    def conn(self) -> tuple[int, int]:
        """The current connection's id."""
        return (self.index, self.generation)


class Routers:
    """All routers, the jobs they wait for, and their 60 s timeouts."""

    def __init__(
        self,
        env: simpy.Environment,
        config: SimConfig,
        relay: RelayService,
        enqueue: Callable[[Job], None],
        rng: random.Random,
    ) -> None:
        self.env = env
        self.config = config
        self.relay = relay
        self.enqueue = enqueue
        self.routers = [Router(i) for i in range(config.routers)]
        self.next_router = 0
        self.on_end: Callable[[Job], None] = lambda job: None
        self.timeouts: TimerQueue[Job] = TimerQueue(env, lambda job: job.state != PENDING, self._give_up)
        self.jobs = 0
        self.reconnects = 0
        self.dead_routers = 0
        for router in self.routers:
            # connections were opened at random times before the run: the first close is spread
            at(env, rng.uniform(0, config.connection_max_s), partial(self._close, router))

    def in_system(self) -> int:
        """Jobs the routers are waiting for."""
        return sum(len(r.pending) for r in self.routers)

    def new_job(self, job_id: int) -> Job:
        """A request arrives: pick a live router, subscribe, enqueue 50 ms later."""
        now = self.env.now
        self.jobs += 1
        router = self._pick()
        job = Job(job_id, router.index, now, now + self.config.router_timeout_s)
        router.pending[job.id] = job
        self.timeouts.add(job.deadline, job)
        if router.connected:
            self.relay.subscribe(job, router.conn)
        at(self.env, self.config.subscribe_delay_s, lambda: self.enqueue(job))
        return job

    def _pick(self) -> Router:
        for _ in range(len(self.routers)):
            router = self.routers[self.next_router]
            self.next_router = (self.next_router + 1) % len(self.routers)
            if not router.dead:
                return router
        return self.routers[0]

    def receive(self, job: Job, conn: tuple[int, int]) -> bool:
        """A result posted to `conn`; False if that connection is gone (410)."""
        router = self.routers[conn[0]]
        if not router.connected or conn[1] != router.generation:
            return False
        if router.pending.pop(job.id, None) is not None and job.state == PENDING:
            job.state = DELIVERED
            job.delivered_at = self.env.now
            self.on_end(job)
            self.relay.ack(job, conn)
            self.relay.unsubscribe(job, conn)
        return True  # a result it no longer waits for is ignored

    def _give_up(self, job: Job) -> None:
        router = self.routers[job.router]
        router.pending.pop(job.id, None)
        job.end(self.env.now)
        self.on_end(job)
        if router.connected:
            self.relay.unsubscribe(job, router.conn)

    def _close(self, router: Router) -> None:
        router.connected = False
        at(self.env, self.config.reconnect_delay_s, lambda: self._try_connect(router))

    def _try_connect(self, router: Router) -> None:
        now = self.env.now
        end = self.relay.compute.admit("onconnect", now)
        if end is None:
            router.tries += 1
            if router.tries >= self.config.reconnect_tries:
                router.dead = True
                self.dead_routers += 1
                return
            at(self.env, self.config.reconnect_delay_s, lambda: self._try_connect(router))
            return
        at(self.env, end - now, lambda: self._connected(router))

    def _connected(self, router: Router) -> None:
        router.connected, router.tries = True, 0
        router.generation += 1
        self.reconnects += 1
        young = self.env.now - self.config.resubscribe_window_s
        for job in list(router.pending.values()):
            if job.arrival > young:
                self.relay.subscribe(job, router.conn)
        at(self.env, self.config.connection_max_s, lambda: self._close(router))
