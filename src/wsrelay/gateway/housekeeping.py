"""The gateway's background chores: lines written in batches, and chores repeated on a timer.

The console, the handlers' log and the owned SQLite store all do their writing a few times a
second instead of once per invocation (a write per invocation was a large share of the
gateway's time under load). Two pieces serve them all:

- `write_batch` writes the lines queued in a list in one piece. Handler threads may append
  while it runs (``list.append`` is atomic): what lands after the count waits for the next
  call, and if the write fails every line stays queued.
- `every` runs a chore on a timer until cancelled. A failing chore (a full disk) is reported on
  stderr once, not on every tick, and tried again on the next one; it never ends the loop.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Awaitable, Callable


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
