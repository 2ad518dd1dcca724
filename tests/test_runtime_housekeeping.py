"""The runtimes' housekeeping: the in-process runtime's periodic flush (the store written behind,
handlers.log), the worker runtimes' log rotation, and the console. A failed flush or rotation is
reported and retried, dropping no row and no log line; a console whose stream went away ends
quietly."""

from __future__ import annotations

import asyncio

import pytest

from wsrelay.gateway.handler_log import HandlerLog
from wsrelay.gateway.runtimes import InProcessRuntime, ProcessRuntime
from wsrelay.gateway.settings import GatewaySettings


def test_a_failing_store_flush_is_reported_once_retried_and_lines_still_written(tmp_path, capsys):
    runtime = InProcessRuntime(GatewaySettings(state_dir=tmp_path), {}, outbound=None, inline=True)
    runtime._log = HandlerLog(tmp_path / "handlers.log", 0)
    attempts: list[int] = []

    def store_flush() -> None:  # a disk full for the first three ticks, then fine
        attempts.append(1)
        if len(attempts) <= 3:
            raise OSError(28, "No space left on device")

    runtime._flush_store = store_flush

    async def until(condition, timeout_s: float = 10.0) -> None:
        for _ in range(int(timeout_s / 0.02)):
            if condition():
                return
            await asyncio.sleep(0.02)

    async def ticks() -> None:
        flusher = asyncio.create_task(runtime._flush_log())
        runtime._lines.append('{"n":1}\n')
        await until(lambda: len(attempts) >= 5)  # three failed ticks, then two good ones
        runtime._lines.append('{"n":2}\n')
        await until(lambda: not runtime._lines)
        flusher.cancel()

    asyncio.run(ticks())
    runtime._log.close()
    assert len(attempts) >= 5  # kept trying after the failures
    assert (tmp_path / "handlers.log").read_text() == '{"n":1}\n{"n":2}\n'
    warnings = [line for line in capsys.readouterr().err.splitlines() if "flush failed" in line]
    expected = "wsrelay serve: warning: flush failed, retrying: OSError: [Errno 28] No space left on device"
    assert warnings == [expected]


def test_a_failing_log_rotation_is_reported_and_the_workers_log_stays(tmp_path, capsys):
    runtime = ProcessRuntime(GatewaySettings(state_dir=tmp_path, log_max_bytes=10), {}, policy="lmi")
    runtime._log = HandlerLog(tmp_path / "handlers.log", 10)
    runtime._log.write('{"n":1,"pad":"xxxxxxxx"}\n')
    runtime._log.flush()
    (tmp_path / "handlers.log.1").mkdir()  # the copy cannot replace a directory: OSError

    async def tick() -> None:
        rotator = asyncio.create_task(runtime._rotate_log())
        await asyncio.sleep(1.3)
        rotator.cancel()

    asyncio.run(tick())
    runtime._log.close()
    assert (tmp_path / "handlers.log").read_text() == '{"n":1,"pad":"xxxxxxxx"}\n'  # not truncated
    assert "wsrelay serve: warning: rotating handlers.log failed:" in capsys.readouterr().err


def test_console_lines_and_a_stream_that_went_away():
    import io

    from wsrelay.gateway.console import Console

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
    console.invocation("$default", "AbCdEfGhIjKlMnO=", "200", 0.25)
    assert console._lines == []  # nothing piles up


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
