"""The compile workers (compiler-explorer's `events-websocket.ts`, `PersistentEventsSender`;
docs/protocol.md) and their autoscaling.

A worker's threads (2: `compilequeue.worker_threads`) pull jobs, compile, publish the result on
the worker's WebSocket and wait for the ack (3 s, then resend, 3 resends, then give up); while
any of its acks is outstanding the worker pulls nothing (acks are flow control). A publish while
its socket is down is not sent; the ack wait runs on and the resend goes out once it is back
(assumed: the source does not say that it buffers). Its socket (`link.Link`) reconnects after
1, 2, 4, 8 and 16 s; after 5 failed tries the worker fails permanently: it stops pulling, its
health check fails, and a replacement works `--worker-replace-s` later; its unfinished jobs
return to the queue after the visibility timeout.

Autoscaling looks at the queue depth every minute and adds workers when it holds more than 2
jobs per worker; they work 3 minutes after the decision. Scale-in after 5 quiet minutes.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Generator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import simpy

from wsrelay.tools.simulate.jobs import Job, job_of, result_frame
from wsrelay.tools.simulate.link import Link, doubling_delay
from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.queue import JobQueue, Message
from wsrelay.tools.simulate.relay_service import RelayFront
from wsrelay.tools.simulate.streams import LogNormal
from wsrelay.tools.simulate.timers import TimerQueue, at

SCALE_IN_QUIET_INTERVALS = 5
SCALE_IN_STEP = 0.1


@dataclass(eq=False)
class Worker:
    """One worker process: its threads, its outstanding acks and its connection."""

    index: int
    threads: int
    idle: int
    active: bool = True
    failed: bool = False
    listed: bool = False  # in the pool's queue of workers that may pull
    pending_acks: int = 0
    tasks: dict[int, Task] = field(default_factory=dict)
    link: Link | None = None

    @property
    def connection(self) -> Link:
        """The worker's link (set when the pool adds the worker)."""
        assert self.link is not None
        return self.link

    def can_pull(self) -> bool:
        """A thread is free and no ack is outstanding."""
        return self.active and self.idle > 0 and self.pending_acks == 0


@dataclass(eq=False)
class Task:
    """One job on one worker thread, from pull to ack (or giving up)."""

    message: Message
    worker: Worker
    sends: int = 0
    done: bool = False


class WorkerPool:
    """Workers, the dispatch of ready jobs to free threads, and the autoscaler."""

    def __init__(
        self,
        env: simpy.Environment,
        config: SimConfig,
        front: RelayFront,
        rng: random.Random,
        connection_rng: random.Random,
        initial_rate: float,
    ) -> None:
        self.env = env
        self.config = config
        self.front = front
        self.rng = rng
        self.connection_rng = connection_rng
        self.compile_time = LogNormal(config.compile_median_s, config.compile_p99_s)
        self.queue = JobQueue(env, config, self.dispatch)
        self.workers: list[Worker] = []
        self.available: deque[Worker] = deque()
        self.retry = doubling_delay(config.worker_backoff_s, config.worker_reconnect_tries)
        self.launching = 0
        self.quiet_intervals = 0
        self.gave_up = 0
        self.resends = 0
        self.unsent = 0  # publishes while the worker's socket was down
        self.failures = 0
        self.ack_timers: TimerQueue[tuple[Task, int]] = TimerQueue(
            env, lambda item: item[0].done or item[0].sends != item[1], self._ack_timeout
        )
        for _ in range(self.steady_workers(initial_rate)):
            self._add_worker(existing=True)

    def steady_workers(self, rate: float) -> int:
        """Workers that carry `rate` jobs/s at 80% of their threads (a run starts in the steady
        state of its first rate, not from a cold fleet)."""
        c = self.config
        busy_s = self.compile_time.mean + c.ack_timeout_s / 10
        return max(c.workers_min, min(c.workers_max, math.ceil(rate * busy_s / (c.threads_per_worker * 0.8))))

    def active(self) -> int:
        """Workers running now."""
        return sum(1 for w in self.workers if w.active)

    def connected(self) -> int:
        """Running workers whose socket is up."""
        return sum(1 for w in self.workers if w.active and w.connection.up)

    def drop_all(self) -> None:
        """Every worker's connection closes at once (the reconnect scenario's outage)."""
        for worker in self.workers:
            if worker.active:
                worker.connection.drop()

    def _add_worker(self, existing: bool = False) -> None:
        c = self.config
        worker = Worker(len(self.workers), c.threads_per_worker, c.threads_per_worker)
        endpoint = _WorkerEndpoint(self, worker)
        worker.link = Link(
            self.env,
            self.front,
            endpoint,
            f"w{worker.index}",
            c.connection_max_s,
            self.retry,
            on_up=lambda: None,
            on_dead=lambda: self._failed(worker),
        )
        if existing:  # opened before the run: ages spread over [0, 2 h)
            worker.link.open_existing(self.connection_rng.uniform(0, c.connection_max_s))
        else:
            worker.link.open()
        self.workers.append(worker)
        self._offer(worker)
        self.dispatch()

    def dispatch(self) -> None:
        """Give ready jobs to free threads of workers that may pull."""
        while self.available and self.queue.ready:
            worker = self.available[0]
            if not worker.can_pull():
                self.available.popleft().listed = False
                continue
            message = self.queue.take()
            if message is None:
                return
            worker.idle -= 1
            task = Task(message, worker)
            at(self.env, self.compile_time.draw(self.rng), partial(self._compiled, task))

    def _offer(self, worker: Worker) -> None:
        if worker.can_pull() and not worker.listed:
            worker.listed = True
            self.available.append(worker)

    def _compiled(self, task: Task) -> None:
        worker = task.worker
        if worker.failed:
            return  # it stopped: the message comes back after its visibility timeout
        job: Job = task.message.job
        now = self.env.now
        if job.produced_at is None and now < job.deadline:
            job.produced_at = now
        worker.pending_acks += 1
        worker.tasks[job.id] = task
        self._send(task)

    def _send(self, task: Task) -> None:
        task.sends += 1
        link = task.worker.connection
        if link.up:
            self.front.send(link.id, result_frame(task.message.job.id), "publish")
        else:
            self.unsent += 1
        self.ack_timers.add(self.env.now + self.config.ack_timeout_s, (task, task.sends))

    def _ack_timeout(self, item: tuple[Task, int]) -> None:
        task = item[0]
        if task.sends <= self.config.ack_resends:
            self.resends += 1
            self._send(task)
        else:
            self.gave_up += 1
            self._finish(task)

    def receive(self, worker: Worker, connection_id: str, text: str) -> None:
        """A frame posted to the worker's connection `connection_id`: an ack ends its task."""
        if connection_id != worker.connection.id or worker.failed:
            return
        found = job_of(text)
        if found is None or not found[1]:
            return
        task = worker.tasks.get(found[0])
        if task is not None and not task.done:
            self._finish(task)

    def _finish(self, task: Task) -> None:
        task.done = True
        worker = task.worker
        if worker.tasks.get(task.message.job.id) is task:
            del worker.tasks[task.message.job.id]
        self.queue.delete(task.message)
        worker.pending_acks -= 1
        worker.idle += 1
        self._offer(worker)
        self.dispatch()

    def _failed(self, worker: Worker) -> None:
        """Out of reconnect tries: the worker stops and its health check fails."""
        self.failures += 1
        worker.active, worker.failed = False, True
        worker.connection.retire()
        for task in worker.tasks.values():
            task.done = True  # no resends; the message was not deleted: it comes back
        worker.tasks.clear()
        at(self.env, self.config.worker_replace_s, self._replace)

    def _replace(self) -> None:
        if self.active() + self.launching < self.config.workers_max:
            self._add_worker()

    def start(self) -> None:
        """Start the autoscaler."""
        self.env.process(self._autoscaler())

    def _autoscaler(self) -> Generator[Any, Any, None]:
        c = self.config
        while True:
            yield self.env.timeout(c.scale_interval_s)
            running = self.active()
            depth = self.queue.depth()
            if depth > c.scale_out_jobs_per_worker * running:
                self.quiet_intervals = 0
                want = min(c.workers_max, math.ceil(depth / c.scale_out_jobs_per_worker))
                add = want - running - self.launching
                if add > 0:
                    self.launching += add
                    at(self.env, c.scale_delay_s, partial(self._launched, add))
                continue
            busy = sum(w.threads - w.idle for w in self.workers if w.active)
            if depth == 0 and busy < 0.5 * running * c.threads_per_worker:
                self.quiet_intervals += 1
            else:
                self.quiet_intervals = 0
            if self.quiet_intervals >= SCALE_IN_QUIET_INTERVALS and running > c.workers_min:
                self.quiet_intervals = 0
                self._scale_in(min(running - c.workers_min, math.ceil(running * SCALE_IN_STEP)))

    def _launched(self, count: int) -> None:
        self.launching -= count
        for _ in range(min(count, self.config.workers_max - self.active())):
            self._add_worker()

    def _scale_in(self, count: int) -> None:
        for worker in reversed(self.workers):
            if count == 0:
                return
            if worker.active and worker.idle == worker.threads and worker.pending_acks == 0:
                worker.active = False
                worker.connection.retire()
                count -= 1


@dataclass(eq=False)
class _WorkerEndpoint:
    """What API Gateway delivers to one worker."""

    pool: WorkerPool
    worker: Worker

    def on_frame(self, connection_id: str, text: str) -> None:
        self.pool.receive(self.worker, connection_id, text)

    def on_closed(self, connection_id: str) -> None:
        self.worker.connection.closed_by_relay(connection_id)
