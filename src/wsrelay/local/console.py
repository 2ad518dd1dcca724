"""The console of ``wsrelay serve``: one line per invocation, written in batches.

A line says when, which route, which connection, how it ended (the status code, or
``error``/``timeout``/``throttled``) and how long it took, plus ``cold-start`` and a detail
when there is one::

    17:18:59 $default     U7Duvk/o/CT3HSg= 200 0.2ms

Lines are collected and written every 0.1 s, and the time stamp is formatted once per second:
a ``print(..., flush=True)`` per invocation (a write system call each, and a ``strftime``) is a
large share of the gateway's time under load (docs/benchmarks.md).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from wsrelay.local.housekeeping import every, write_batch

FLUSH_INTERVAL_S = 0.1


class Console:
    """Invocation lines for a text stream (stdout by default)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout
        self._lines: list[str] = []
        self._second = -1
        self._stamp = ""
        self.closed = False  # the stream went away (a closed pipe): lines are no longer kept

    def invocation(
        self,
        route: str,
        connection_id: str,
        outcome: str,
        duration_ms: float,
        cold_start: bool = False,
        detail: str | None = None,
    ) -> None:
        """Queue one invocation's line."""
        if self.closed:
            return
        second = int(time.time())
        if second != self._second:
            self._second, self._stamp = second, time.strftime("%H:%M:%S", time.localtime(second))
        cold = " cold-start" if cold_start else ""
        extra = f" ({detail})" if detail else ""
        line = f"{self._stamp} {route:<12} {connection_id} {outcome} {duration_ms:.1f}ms{cold}{extra}\n"
        self._lines.append(line)

    def flush(self) -> None:
        """Write the queued lines now. A stream that cannot take them (the reader of a pipe
        went away) ends the console: the gateway keeps serving, without piling lines up."""
        if self.closed:
            return
        try:
            write_batch(self._lines, self.stream.write)
            self.stream.flush()
        except (OSError, ValueError):
            self.closed = True
            self._lines.clear()

    async def run(self) -> None:
        """Flush every `FLUSH_INTERVAL_S` until cancelled."""
        await every(FLUSH_INTERVAL_S, self.flush, "writing the console failed")
