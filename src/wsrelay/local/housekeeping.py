"""The gateway's background chores: lines written in batches, and chores repeated on a timer.

The console, the handlers' log and the owned SQLite store all do their writing a few times a
second instead of once per invocation (a write per invocation was a large share of the
gateway's time under load). Two pieces serve them all:

- `write_batch` writes the lines queued in a list in one piece. Handler threads may append
  while it runs (``list.append`` is atomic): what lands after the count waits for the next
  call, and if the write fails every line stays queued.
- `every` runs a chore on a timer until cancelled. A failing chore (a full disk) is reported on
  stderr once, not on every tick, and tried again on the next one; it never ends the loop.
- `WriteBehind` is the in-process runtime's use of both: the handlers' log lines and the owned
  store's pending rows, written every 0.1 s.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Awaitable, Callable

from wsrelay.local.handler_log import HandlerLog

WRITE_BEHIND_INTERVAL_S = 0.1


def write_batch(lines: list[str], write: Callable[[str], object]) -> None:
    """Write the lines queued so far with one call of `write`, then drop them."""
    count = len(lines)
    if count:
        write("".join(lines[:count]))
        del lines[:count]


async def every(interval_s: float, chore: Callable[[], Awaitable[object] | object], failure: str) -> None:
    """Run `chore` every `interval_s` until cancelled; report a new failure as
    ``wsrelay serve: warning: <failure>: <error>``."""
    reported = ""
    while True:
        await asyncio.sleep(interval_s)
        try:
            done = chore()
            if inspect.isawaitable(done):
                await done
            reported = ""
        except Exception as error:
            message = f"{type(error).__name__}: {error}"
            if message != reported:
                print(f"wsrelay serve: warning: {failure}: {message}", file=sys.stderr)
                reported = message


class WriteBehind:
    """Log lines queued in memory (and an owned store's rows), written out together.

    `queue` is the handlers' log sink: ``list.append``, atomic, so handler threads need no lock.
    A flush writes the store first and the lines whatever the store did; a failed flush keeps
    every row and line for the next one.
    """

    def __init__(self, log: HandlerLog, flush_store: Callable[[], None] | None = None) -> None:
        self.log = log
        self.lines: list[str] = []
        self.queue = self.lines.append
        self.flush_store = flush_store

    def flush(self) -> None:
        try:
            if self.flush_store is not None:
                self.flush_store()
        finally:
            write_batch(self.lines, self.log.write)
            self.log.rotate_if_full()

    async def run(self, interval_s: float = WRITE_BEHIND_INTERVAL_S) -> None:
        """Flush every `interval_s` until cancelled."""
        await every(interval_s, self.flush, "flush failed, retrying")
