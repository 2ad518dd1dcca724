"""The job queue (SQS-like): FIFO delivery, a visibility timeout after which an undeleted message
is delivered again (to any worker: a duplicate compile), and a retention period."""

from __future__ import annotations

from collections import deque
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
        self.visibility: TimerQueue[tuple[Message, int]] = TimerQueue(
            env, lambda item: item[0].deleted or item[0].receives != item[1], self._visible_again
        )

    def put(self, job: Job) -> None:
        """Enqueue `job` now."""
        self.ready.append(Message(job, self.env.now))
        self.on_ready()

    def take(self) -> Message | None:
        """The next deliverable message (invisible from now on), or None."""
        now = self.env.now
        while self.ready:
            message = self.ready.popleft()
            if message.deleted:
                continue
            if now - message.enqueued_at > self.config.queue_retention_s:
                self.expired += 1
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
        """Messages waiting to be received (what autoscaling looks at)."""
        return len(self.ready)

    def _visible_again(self, item: tuple[Message, int]) -> None:
        self.ready.append(item[0])
        self.on_ready()
