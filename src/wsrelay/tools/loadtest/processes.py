"""``--processes N``: N generator processes on this machine, their reports merged exactly.

Each process runs its share of the load (rate, pairs and connections divided, schedules phase
shifted so their arrivals interleave) and returns its report; the parent merges them with
`merge_reports` and draws one progress bar from counts the children publish in shared memory.

Ctrl-C stops the parent only: the children start with SIGINT blocked (a terminal sends it to
the whole process group), and the parent, interrupted, terminates them. So no child prints a
KeyboardInterrupt traceback, whenever the signal lands, even while it is still starting up.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import queue
import signal
from collections.abc import Callable
from multiprocessing.sharedctypes import SynchronizedArray
from typing import Any

from wsrelay.tools.loadtest.generator import Generator, LoadSpec
from wsrelay.tools.loadtest.progress import Snapshot
from wsrelay.tools.loadtest.report import merge_reports
from wsrelay.tools.loadtest.tally import Tally

FIELDS = 4  # sent, delivered, acked, errors per child
POLL_S = 0.25


class GeneratorFailed(RuntimeError):
    """A generator process could not run (its first connection failed, or it crashed)."""


def _share(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


def split(spec: LoadSpec, processes: int) -> list[LoadSpec]:
    """The per-process specs: rate, pairs, routers and workers divided (at least 1 each)."""
    specs = []
    for index in range(processes):
        specs.append(
            dataclasses.replace(
                spec,
                rate=None if spec.rate is None else spec.rate / processes,
                pairs=None if spec.pairs is None else max(1, _share(spec.pairs, processes, index)),
                routers=max(1, _share(spec.routers, processes, index)),
                workers=max(1, _share(spec.workers, processes, index)),
                process_index=index,
                processes=processes,
                phase_s=0.0 if spec.rate is None else index / spec.rate,
            )
        )
    return specs


def _child(spec: LoadSpec, counts: Any, results: Any) -> None:
    import asyncio

    from wsrelay.client import ConnectError

    base = spec.process_index * FIELDS

    def publish(tally: Tally) -> None:
        counts[base : base + FIELDS] = [
            tally.sent,
            tally.delivered,
            tally.acked,
            tally.publish_failures + tally.corrupted,
        ]

    try:
        report = asyncio.run(Generator(spec, publish).run())
    except ConnectError as error:
        results.put((spec.process_index, "error", str(error)))
    except Exception as error:  # reported by the parent as one line
        results.put((spec.process_index, "error", f"{type(error).__name__}: {error}"))
    else:
        results.put((spec.process_index, "report", report))


def _start(children: list[Any]) -> None:
    """Start `children` with SIGINT blocked, which they inherit (through exec too) and keep. A
    SIGINT to this process meanwhile waits, and is raised here once the mask is restored."""
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        for child in children:
            child.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, blocked)


def run_processes(spec: LoadSpec, processes: int, show: Callable[[Snapshot], None]) -> dict[str, Any]:
    """Run `processes` generators and return the merged report; `GeneratorFailed` if one fails.
    Interrupted (KeyboardInterrupt), it terminates the children first."""
    context = multiprocessing.get_context("spawn")
    counts: SynchronizedArray[int] = context.Array("q", FIELDS * processes, lock=False)
    results = context.Queue()
    children = [
        context.Process(target=_child, args=(s, counts, results), daemon=True) for s in split(spec, processes)
    ]
    reports: dict[int, dict[str, Any]] = {}
    try:
        _start(children)
        while len(reports) < processes:
            try:
                index, kind, payload = results.get(timeout=POLL_S)
            except queue.Empty:
                if any(child.exitcode not in (None, 0) for child in children):
                    raise GeneratorFailed("a generator process died") from None
            else:
                if kind == "error":
                    raise GeneratorFailed(payload)
                reports[index] = payload
            show(_snapshot(counts, processes))
    finally:
        for child in children:
            if child.pid is None:  # never started
                continue
            if child.is_alive() and len(reports) < processes:
                child.terminate()
            child.join(timeout=5)
    # One run split over processes: its schedule's rate and duration, not the union of the
    # children's (whose clocks start a few milliseconds apart).
    merged = merge_reports(
        (reports[index] for index in sorted(reports)), duration_s=spec.duration_s, rate=spec.rate
    )
    merged["processes"] = processes
    merged["run_id"] = spec.run_id
    return merged


def _snapshot(counts: Any, processes: int) -> Snapshot:
    total = Snapshot()
    for index in range(processes):
        sent, delivered, acked, errors = counts[index * FIELDS : (index + 1) * FIELDS]
        total = total + Snapshot(sent, delivered, acked, errors)
    return total
