"""Timeouts that are added in deadline order (a fixed delay after "now"), kept in one deque with
a single pending SimPy timeout: a job's 60 s wait, a publish's 3 s ack wait and a message's
visibility timeout each cost an event only when they expire, not when they are cancelled."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

if TYPE_CHECKING:  # only annotations: importing this module must not load simpy
    import simpy

T = TypeVar("T")


class TimerQueue(Generic[T]):
    """Deadlines added in nondecreasing order; `expire(item)` runs for items not `done(item)`."""

    def __init__(self, env: simpy.Environment, done: Callable[[T], bool], expire: Callable[[T], Any]) -> None:
        self.env = env
        self.done = done
        self.expire = expire
        self.items: deque[tuple[float, T]] = deque()
        self.armed_for: float | None = None

    def add(self, deadline: float, item: T) -> None:
        """Call `expire(item)` at `deadline` unless `done(item)` by then."""
        if self.items and deadline < self.items[-1][0]:
            raise ValueError("TimerQueue deadlines must not decrease")
        self.items.append((deadline, item))
        if self.armed_for is None:
            self._arm()

    def _arm(self) -> None:
        while self.items and self.done(self.items[0][1]):
            self.items.popleft()
        if not self.items:
            self.armed_for = None
            return
        deadline = self.items[0][0]
        self.armed_for = deadline
        self.env.timeout(max(0.0, deadline - self.env.now)).callbacks.append(self._fire)

    def _fire(self, _event: simpy.Event) -> None:
        now = self.env.now
        while self.items and self.items[0][0] <= now:
            _, item = self.items.popleft()
            if not self.done(item):
                self.expire(item)
        self._arm()


def at(env: simpy.Environment, delay: float, action: Callable[[], Any]) -> None:
    """Run `action` `delay` seconds from now (one SimPy timeout with a callback)."""
    env.timeout(delay).callbacks.append(lambda _event: action())
