"""Waiting on a condition instead of on the clock: `wait_until` (plain tests, threads) and
`wait_until_async` (coroutines: it yields to the event loop between polls).

Both call `condition()` every `interval` seconds until it returns a truthy value, which they
return, and fail with `WaitTimeout` naming what was awaited (and the last value or error seen)
once `timeout` seconds pass. The timeout bounds a broken system; it is not a performance claim:
pick it generously (the machines that run these tests are shared and loaded).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

INTERVAL_S = 0.02


class WaitTimeout(AssertionError):
    """The awaited condition did not hold within the timeout (an assertion failure for pytest)."""


class _Poll:
    """One wait: the deadline, and what the condition last returned or raised."""

    def __init__(
        self,
        condition: Callable[[], Any],
        timeout: float,
        *,
        what: str | None = None,
        interval: float = INTERVAL_S,
        ignore: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.condition = condition
        self.timeout = timeout
        self.what = what or getattr(condition, "__qualname__", None) or repr(condition)
        self.interval = interval
        self.ignore = ignore
        self.deadline = time.monotonic() + timeout
        self.last: Any = None
        self.error: BaseException | None = None

    def holds(self) -> bool:
        """Evaluate the condition once; raise `WaitTimeout` when it fails past the deadline."""
        try:
            self.last, self.error = self.condition(), None
        except self.ignore as exc:
            self.error = exc
        else:
            if self.last:
                return True
        if time.monotonic() >= self.deadline:
            seen = f"last value {self.last!r}"
            if self.error is not None:
                seen = f"last error {type(self.error).__name__}: {self.error}"
            raise WaitTimeout(f"timed out after {self.timeout:g} s waiting for {self.what} ({seen})")
        return False


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, **options: Any) -> Any:
    """Poll `condition()` until it is truthy and return that value.

    Options: `what` names the condition in the failure message (default: the callable's name);
    `interval` is the polling period; exceptions of the types in `ignore` count as "not yet"
    (a server still starting, a file not yet written), any other exception propagates at once.
    """
    poll = _Poll(condition, timeout, **options)
    while not poll.holds():
        time.sleep(poll.interval)
    return poll.last


async def wait_until_async(condition: Callable[[], Any], timeout: float = 10.0, **options: Any) -> Any:
    """`wait_until` inside a coroutine, with the same options: the event loop runs between polls
    (`condition` itself is a plain, quick callable)."""
    poll = _Poll(condition, timeout, **options)
    while not poll.holds():
        await asyncio.sleep(poll.interval)
    return poll.last
