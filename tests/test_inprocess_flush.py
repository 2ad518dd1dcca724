"""The in-process runtime's periodic flush (the store written behind, handlers.log): a failure
is reported once and retried; neither the store's rows nor the log lines are dropped."""

from __future__ import annotations

import asyncio

from wsrelay.gateway.handler_log import HandlerLog
from wsrelay.gateway.runtimes import InProcessRuntime
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

    async def ticks() -> None:
        flusher = asyncio.create_task(runtime._flush_log())
        runtime._lines.append('{"n":1}\n')
        await asyncio.sleep(0.65)
        runtime._lines.append('{"n":2}\n')
        await asyncio.sleep(0.25)
        flusher.cancel()

    asyncio.run(ticks())
    runtime._log.close()
    assert len(attempts) >= 5  # kept trying after the failures
    assert (tmp_path / "handlers.log").read_text() == '{"n":1}\n{"n":2}\n'
    warnings = [line for line in capsys.readouterr().err.splitlines() if "flush failed" in line]
    expected = "wsrelay serve: warning: flush failed, retrying: OSError: [Errno 28] No space left on device"
    assert warnings == [expected]
