"""The live progress bar (rich) of a load test: time through the run and the counts so far.

It is refreshed from the generator's own 0.25 s tick (no refresh thread competing with the event
loop for the GIL) and drawn on stderr, so the tables and JSON on stdout stay clean.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The counts shown: jobs sent, delivered, acked, and errors."""

    sent: int = 0
    delivered: int = 0
    acked: int = 0
    errors: int = 0

    def __add__(self, other: Snapshot) -> Snapshot:
        return Snapshot(
            self.sent + other.sent,
            self.delivered + other.delivered,
            self.acked + other.acked,
            self.errors + other.errors,
        )


def wanted(mode: str) -> bool:
    """``--progress``: ``on``, ``off``, or ``auto`` (on when stderr is a terminal)."""
    return mode == "on" or (mode == "auto" and sys.stderr.isatty())


class LiveProgress:
    """A context manager; `show(snapshot)` redraws. Disabled, it does nothing at all."""

    def __init__(self, duration_s: float, enabled: bool, console: Console | None = None) -> None:
        self.enabled = enabled
        self.duration_s = duration_s
        self.started = time.monotonic()
        self.progress: Progress | None = None
        if enabled:
            self.progress = Progress(
                TextColumn("[bold]loadtest"),
                BarColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[counts]}"),
                console=console or Console(stderr=True),
                auto_refresh=False,
                transient=False,
            )
            self.task = self.progress.add_task("run", total=duration_s, counts="connecting")

    def __enter__(self) -> LiveProgress:
        if self.progress is not None:
            self.progress.start()
            self.started = time.monotonic()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self.progress is not None:
            self.progress.stop()

    def show(self, snapshot: Snapshot) -> None:
        """Redraw with `snapshot` and the time elapsed since the bar started."""
        if self.progress is None:
            return
        counts = (
            f"sent {snapshot.sent}  delivered {snapshot.delivered}  acked {snapshot.acked}  "
            f"pending {snapshot.sent - snapshot.delivered}  errors {snapshot.errors}"
        )
        elapsed = min(self.duration_s, time.monotonic() - self.started)
        self.progress.update(self.task, completed=elapsed, counts=counts, refresh=True)
