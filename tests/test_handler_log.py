"""handlers.log rotation: rename-and-reopen for the gateway's own writes, copy-and-truncate for
worker processes appending to the inherited descriptor (a real child process)."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from wsrelay.local.handler_log import HandlerLog


def test_rotates_past_the_limit_keeping_the_newest_lines_whole(tmp_path):
    log = HandlerLog(tmp_path / "handlers.log", max_bytes=100)
    lines = [f'{{"n":{i:02},"pad":"{"x" * 20}"}}\n' for i in range(13)]  # 35 bytes each
    rotations = 0
    for line in lines:
        log.write(line)
        rotations += log.rotate_if_full()
    log.close()
    assert rotations == 4  # after every third line
    assert (tmp_path / "handlers.log.1").read_text() == "".join(lines[9:12])
    assert (tmp_path / "handlers.log").read_text() == lines[12]


def test_zero_never_rotates(tmp_path):
    log = HandlerLog(tmp_path / "handlers.log", max_bytes=0)
    log.write("x" * 10_000 + "\n")
    assert not log.rotate_if_full()
    log.close()
    assert not (tmp_path / "handlers.log.1").exists()


def _child_writes(log: HandlerLog, text: str) -> None:
    """A worker process appending to the inherited descriptor, as lmi workers do (stderr)."""
    code = f"import sys; sys.stderr.write({text!r}); sys.stderr.flush()"
    subprocess.run([sys.executable, "-c", code], stderr=log.file, check=True)


@pytest.mark.processes
def test_copy_truncate_keeps_worker_appends_at_the_start_of_the_emptied_file(tmp_path):
    log = HandlerLog(tmp_path / "handlers.log", max_bytes=50)
    _child_writes(log, "a" * 60 + "\n")
    assert asyncio.run(log.copy_truncate_if_full())
    _child_writes(log, "after\n")
    log.close()
    assert (tmp_path / "handlers.log.1").read_text() == "a" * 60 + "\n"
    assert (tmp_path / "handlers.log").read_bytes() == b"after\n"  # appended at 0: no hole of NULs
    assert not asyncio.run(HandlerLog(tmp_path / "handlers.log", max_bytes=50).copy_truncate_if_full())
