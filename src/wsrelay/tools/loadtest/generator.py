"""One load generator: its router (`Subscriber`) and worker (`Publisher`) connections, the job
cycle, the open- or closed-loop driver, and the report it ends with.

A job is the real clients' cycle: a router subscribes, a worker publishes after the enqueue
delay (the router's ~50 ms before it enqueues), the router receives, acks and unsubscribes, the
worker receives the ack. Jobs are spread over the connections round-robin. Every run stops by
itself: at the end of the schedule plus the grace period, whatever has not arrived is lost.

The generator owns every task it starts: when it stops (at its end, or cancelled by a Ctrl-C)
it starts no more jobs and cancels and awaits the tasks before it closes the connections, so
nothing is left to fail against a closed client and print a traceback.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from wsrelay.client import (
    ClientClosed,
    ConnectError,
    Publisher,
    PublisherConfig,
    PublishFailed,
    RelayClientError,
    ResultTimeout,
    S3Config,
    Subscriber,
    SubscriberConfig,
)
from wsrelay.protocol import STORED_ACKNOWLEDGER
from wsrelay.tools.loadtest.payloads import Payloads, SizeRange
from wsrelay.tools.loadtest.report import build_report
from wsrelay.tools.loadtest.schedule import arrival_offsets
from wsrelay.tools.loadtest.tally import Tally

START_LEAD_S = 0.05  # the first job is due this long after the schedule is laid
TICK_S = 0.25
SCHEDULE_WINDOW_S = 0.1
# A generator behind its schedule still yields to the loop this often (jobs scheduled).
YIELD_EVERY = 256
F = TypeVar("F", bound="asyncio.Future[Any]")
# One connection attempt: an endpoint that does not answer is reported within 10 s of the start.
OPEN_TIMEOUT_S = 6.0


@dataclass(frozen=True)
class LoadSpec:
    """Everything one generator needs (picklable: it is sent to generator processes)."""

    url: str
    duration_s: float
    rate: float | None = None
    pairs: int | None = None
    routers: int = 4
    workers: int = 16
    enqueue_delay_s: float = 0.05
    sizes: tuple[SizeRange, ...] = ()
    seed: int = 1
    arrivals: str = "uniform"
    grace_s: float = 10.0
    headers: dict[str, str] = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)  # the $connect authorizer's, on every connection
    s3: S3Config | None = None
    run_id: str = "run"
    process_index: int = 0
    processes: int = 1  # generators of the run (``--processes``)
    phase_s: float = 0.0  # this generator's schedule is shifted by this much (interleaves processes)


class Generator:
    """Runs `spec` against its endpoint; `tick(tally)` is called every 0.25 s while it runs."""

    def __init__(self, spec: LoadSpec, tick: Callable[[Tally], None] | None = None) -> None:
        self.spec = spec
        self.tick = tick
        self.tally = Tally()
        self.payloads = Payloads(list(spec.sizes), spec.seed + spec.process_index)
        self.routers: list[Subscriber] = []
        self.workers: list[Publisher] = []
        self.prefix = f"lt-{spec.run_id}-{spec.process_index}-"
        self.deadline = float("inf")
        self.tasks: set[asyncio.Future[Any]] = set()  # jobs and publishes still running
        self.stopped = False  # a job timer that fires after this starts nothing

    @property
    def generator_id(self) -> str:
        """This generator's run id in its report: the run's, with the process's index when the
        run has several (loadtest-merge refuses an id twice)."""
        spec = self.spec
        return spec.run_id if spec.processes == 1 else f"{spec.run_id}.{spec.process_index}"

    def _own(self, future: F) -> F:
        """Keep `future` until it is done, to cancel it if the run stops first."""
        self.tasks.add(future)
        future.add_done_callback(self.tasks.discard)
        return future

    async def run(self) -> dict[str, Any]:
        """Connect, run the schedule, wait out the grace period, close; the report.

        Raises `ConnectError` at once if any first connection fails.
        """
        spec = self.spec
        await self._connect()
        started_wall, started_cpu = time.time(), time.process_time()
        self._own(asyncio.ensure_future(self._ticker()))
        try:
            if spec.rate is not None:
                await self._open_loop(spec.rate)
            else:
                await self._closed_loop(spec.pairs or 1)
        finally:
            await self._stop()
            if self.tick is not None:
                self.tick(self.tally)
            await self._close()
        self.tally.cpu_s = time.process_time() - started_cpu
        return build_report(
            spec, self.generator_id, self.tally, self.routers, self.workers, started_wall, time.time()
        )

    async def _stop(self) -> None:
        """Start no more jobs; cancel every task still running and wait for them."""
        self.stopped = True
        running = list(self.tasks)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def _connect(self) -> None:
        spec = self.spec
        timeout = OPEN_TIMEOUT_S
        common: dict[str, Any] = {"headers": spec.headers, "token": spec.token, "s3": spec.s3}
        sub_config = SubscriberConfig(spec.url, open_timeout_s=timeout, **common)
        pub_config = PublisherConfig(spec.url, open_timeout_s=timeout, **common)
        self.routers = [Subscriber(sub_config) for _ in range(spec.routers)]
        self.workers = [Publisher(pub_config) for _ in range(spec.workers)]
        clients: list[Subscriber | Publisher] = [*self.routers, *self.workers]
        try:
            outcomes = await asyncio.gather(*(client.start() for client in clients), return_exceptions=True)
        except asyncio.CancelledError:  # Ctrl-C while connecting: close what did connect
            await self._close()
            raise
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        if failures:
            await self._close()
            if isinstance(failures[0], ConnectError):
                raise failures[0]
            raise ConnectError(f"cannot connect to {spec.url}: {failures[0]}")

    async def _close(self) -> None:
        clients: list[Subscriber | Publisher] = [*self.routers, *self.workers]
        await asyncio.gather(*(client.close() for client in clients), return_exceptions=True)

    async def _ticker(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            if self.tick is not None:
                self.tick(self.tally)

    async def _open_loop(self, rate: float) -> None:
        spec = self.spec
        loop = asyncio.get_running_loop()
        start = loop.time() + START_LEAD_S + spec.phase_s
        self.deadline = start + spec.duration_s + spec.enqueue_delay_s + spec.grace_s
        jobs: set[asyncio.Task[None]] = set()
        # Timers not yet fired: a late generator can reach the end of the schedule before the
        # loop has started its last jobs, and the drain must wait for those too.
        unlaunched = 0
        all_launched = asyncio.Event()

        def launch(index: int, due: float) -> None:
            nonlocal unlaunched
            if self.stopped:
                return
            task = self._own(loop.create_task(self._job(index, due)))
            jobs.add(task)
            task.add_done_callback(jobs.discard)
            unlaunched -= 1
            if unlaunched == 0:
                all_launched.set()

        # Jobs become loop timers a window ahead of time: the loop starts each one when it is due,
        # with no sleeping coroutine per job between them.
        offsets = arrival_offsets(rate, spec.duration_s, spec.arrivals, spec.seed + spec.process_index)
        for index, offset in enumerate(offsets):
            due = start + offset
            ahead = due - loop.time() - SCHEDULE_WINDOW_S
            if ahead > 0:
                await asyncio.sleep(ahead)
            elif index % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # behind schedule: let the due jobs run meanwhile
            unlaunched += 1
            all_launched.clear()
            loop.call_at(due, launch, index, due)
        await asyncio.sleep(max(0.0, start + spec.duration_s - loop.time()))
        if unlaunched:
            await all_launched.wait()
        await self._drain(jobs)

    async def _closed_loop(self, pairs: int) -> None:
        spec = self.spec
        end = time.monotonic() + spec.duration_s
        self.deadline = end + spec.enqueue_delay_s + spec.grace_s
        counter = itertools.count()

        async def pair() -> None:
            while time.monotonic() < end:
                await self._job(next(counter), time.monotonic())

        await self._drain({self._own(asyncio.ensure_future(pair())) for _ in range(pairs)})

    async def _drain(self, jobs: set[asyncio.Task[None]]) -> None:
        """Wait for the jobs until the deadline (they end by themselves then), cancel stragglers."""
        if not jobs:
            return
        _, late = await asyncio.wait(set(jobs), timeout=max(0.0, self.deadline - time.monotonic()) + 1.0)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)

    def _left(self) -> float:
        return max(0.001, self.deadline - time.monotonic())

    async def _job(self, index: int, due: float) -> None:
        tally = self.tally
        tally.lag.record(time.monotonic() - due)
        guid = f"{self.prefix}{index}"
        router = self.routers[index % len(self.routers)]
        worker = self.workers[index % len(self.workers)]
        body = Payloads.result(guid, index, self.payloads.draw())
        tally.job_sent()
        await router.subscribe(guid)
        publish_at = due + self.spec.enqueue_delay_s
        delay = publish_at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tally.published += 1
        publishing = self._own(asyncio.ensure_future(worker.publish(guid, body)))
        try:
            result = await router.wait(guid, self._left())
        except ResultTimeout:
            pass  # lost: counted as sent - delivered
        except RelayClientError as error:
            tally.error(f"wait: {error}")
        else:
            if result.data.get("seq") != index or result.data.get("stdout") != body["stdout"]:
                tally.corrupted += 1
                tally.error(f"{guid}: the delivered result differs from the published one")
            tally.delivered_after(result.received_at - publish_at)
        try:
            ack = await asyncio.wait_for(publishing, self._left())
        except (TimeoutError, ClientClosed):
            return  # unacked: counted as published - acked
        except PublishFailed as failure:
            tally.publish_failures += 1
            tally.error(str(failure).replace(guid, "<guid>"))
            return
        if ack.via_s3:
            tally.s3_offloaded += 1
        tally.acked_after(ack.received_at - publish_at, ack.acknowledged_by == STORED_ACKNOWLEDGER)
