"""The runtimes' housekeeping: the in-process runtime's periodic flush (the store written behind,
handlers.log), the worker runtimes' log rotation, and the console. A failed flush or rotation is
reported and retried, dropping no row and no log line; a console whose stream went away ends
quietly."""

from __future__ import annotations

import asyncio

import pytest
from waiting import wait_until_async

from wsrelay.local.handler_log import HandlerLog
from wsrelay.local.housekeeping import WriteBehind
from wsrelay.local.runtimes.process.runtime import ProcessRuntime
from wsrelay.local.settings import GatewaySettings


def test_a_failing_store_flush_is_reported_once_retried_and_lines_still_written(tmp_path, capsys):
    log = HandlerLog(tmp_path / "handlers.log", 0)
    attempts: list[int] = []

    def store_flush() -> None:  # a disk full for the first three ticks, then fine
        attempts.append(1)
        if len(attempts) <= 3:
            raise OSError(28, "No space left on device")

    writes = WriteBehind(log, store_flush)

    async def ticks() -> None:
        flusher = asyncio.create_task(writes.run(interval_s=0.01))
        writes.queue('{"n":1}\n')
        await wait_until_async(lambda: len(attempts) >= 5, 10, what="three failed flushes, then two good")
        writes.queue('{"n":2}\n')
        await wait_until_async(lambda: not writes.lines, 10, what="the queued line written")
        flusher.cancel()

    asyncio.run(ticks())
    log.close()
    assert (tmp_path / "handlers.log").read_text() == '{"n":1}\n{"n":2}\n'
    warnings = [line for line in capsys.readouterr().err.splitlines() if "flush failed" in line]
    expected = "wsrelay serve: warning: flush failed, retrying: OSError: [Errno 28] No space left on device"
    assert warnings == [expected]


def test_a_failing_log_rotation_is_reported_and_the_workers_log_stays(tmp_path, capsys):
    settings = GatewaySettings(state_dir=tmp_path, runtime="ondemand", log_max_mib=10 / 2**20)
    runtime = ProcessRuntime(settings, "http://127.0.0.1:9/local", rotate_interval_s=0.01)
    line = '{"n":1,"pad":"xxxxxxxx"}\n'
    (tmp_path / "handlers.log").write_text(line)  # what a worker appended: over the limit
    (tmp_path / "handlers.log.1").mkdir()  # the copy cannot replace a directory: OSError
    errors: list[str] = []

    def reported() -> bool:
        errors.append(capsys.readouterr().err)
        return "wsrelay serve: warning: rotating handlers.log failed:" in "".join(errors)

    async def run() -> None:
        await runtime.start()  # ondemand: no environment starts before the first request
        try:
            await wait_until_async(reported, 10, what="the rotation failure reported")
        finally:
            await runtime.stop()

    asyncio.run(run())
    assert (tmp_path / "handlers.log").read_text() == line  # not truncated
    assert "".join(errors).count("rotating handlers.log failed") == 1  # reported once, not per tick


def test_console_lines_and_a_stream_that_went_away():
    import io

    from wsrelay.local.console import Console

    stream = io.StringIO()
    console = Console(stream)
    console.invocation("$default", "AbCdEfGhIjKlMnO=", "200", 0.25)
    console.invocation("$connect", "AbCdEfGhIjKlMnO=", "error", 1.0, cold_start=True, detail="boom")
    assert stream.getvalue() == ""  # queued until the next flush
    console.flush()
    first, second = stream.getvalue().splitlines()
    assert first.endswith(" $default     AbCdEfGhIjKlMnO= 200 0.2ms")
    assert second.endswith(" $connect     AbCdEfGhIjKlMnO= error 1.0ms cold-start (boom)")
    stream.close()  # as when the reader of a pipe goes away
    console.invocation("$default", "AbCdEfGhIjKlMnO=", "200", 0.25)
    console.flush()  # does not raise
    assert console.closed
    console.invocation("$default", "AbCdEfGhIjKlMnO=", "200", 0.25)  # dropped, not queued
    console.flush()


def test_rotation_that_cannot_rename_keeps_the_log_writable(tmp_path):
    log = HandlerLog(tmp_path / "handlers.log", max_bytes=10)
    log.write("x" * 20 + "\n")
    (tmp_path / "handlers.log.1").mkdir()
    (tmp_path / "handlers.log.1" / "keep").write_text("")  # a non-empty directory: rename fails
    with pytest.raises(OSError):
        log.rotate_if_full()
    log.write("still\n")
    log.close()
    assert (tmp_path / "handlers.log").read_text() == "x" * 20 + "\nstill\n"
