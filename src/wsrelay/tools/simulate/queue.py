"""The job queue, as Compiler Explorer's SQS FIFO queue behaves with one message group per job:
messages are received in the order sent (one group per job: no group ever blocks another), a
received message not deleted within the visibility timeout (60 s) is received again (by any
worker: a duplicate compile), a message older than the retention period (300 s) is dropped, and
a job sent again within the deduplication interval (5 minutes) is accepted but not delivered
twice. The routers of the model send each job once, so deduplication never fires in a run; it
is here so that the queue is the one stated."""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

import simpy

from wsrelay.tools.simulate.jobs import Job
from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.timers import TimerQueue


@dataclass(slots=True, eq=False)
class Message:
    """A job on the queue."""

    job: Job
    enqueued_at: float
    receives: int = 0
    deleted: bool = False


class JobQueue:
    """Ready messages in order; received ones come back after the visibility timeout."""

    def __init__(self, env: simpy.Environment, config: SimConfig, on_ready: Callable[[], None]) -> None:
        self.env = env
        self.config = config
        self.on_ready = on_ready
        self.ready: deque[Message] = deque()
        self.expired = 0
        self.redelivered = 0
        self.deduplicated = 0
        self.sent_at: OrderedDict[int, float] = OrderedDict()  # job id -> sent, within the dedup interval
        self.visibility: TimerQueue[tuple[Message, int]] = TimerQueue(
            env, lambda item: item[0].deleted or item[0].receives != item[1], self._visible_again
        )

    def put(self, job: Job) -> None:
        """Enqueue `job` now (dropped if the same job was sent within the dedup interval)."""
        now = self.env.now
        while self.sent_at and next(iter(self.sent_at.values())) <= now - self.config.queue_dedup_s:
            self.sent_at.popitem(last=False)
        if job.id in self.sent_at:
            self.deduplicated += 1
            return
        self.sent_at[job.id] = now
        self.ready.append(Message(job, now))
        self.on_ready()

    def _gone(self, message: Message, now: float) -> bool:
        """Deleted by its worker, or past the retention period (SQS deletes it: never received again)."""
        if message.deleted:
            return True
        if now - message.enqueued_at > self.config.queue_retention_s:
            self.expired += 1
            return True
        return False

    def take(self) -> Message | None:
        """The next deliverable message (invisible from now on), or None."""
        now = self.env.now
        while self.ready:
            message = self.ready.popleft()
            if self._gone(message, now):
                continue
            message.receives += 1
            if message.receives > 1:
                self.redelivered += 1
            self.visibility.add(now + self.config.visibility_timeout_s, (message, message.receives))
            return message
        return None

    @staticmethod
    def delete(message: Message) -> None:
        """The worker is done with `message`."""
        message.deleted = True

    def depth(self) -> int:
        """Messages waiting to be received (what autoscaling looks at): those past the retention
        period are not counted (dropped from the front, where the oldest wait)."""
        now = self.env.now
        while self.ready and self._gone(self.ready[0], now):
            self.ready.popleft()
        return len(self.ready)

    def _visible_again(self, item: tuple[Message, int]) -> None:
        self.ready.append(item[0])
        self.on_ready()
