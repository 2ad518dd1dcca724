"""The handlers' log file, ``STATE_DIR/handlers.log``: the local CloudWatch Logs, kept bounded.

Every invocation writes one JSON line (with its EMF metrics); a load test against the in-process
runtime writes megabytes of them a second. Past ``max_bytes`` the file is rotated to
``handlers.log.1`` (replacing the previous one), so the state directory holds at most twice
``max_bytes`` of logs; ``max_bytes=0`` never rotates.

Two writers, two ways to rotate:

- the in-process runtime hands its lines to `write`: rotation renames the file and reopens a
  fresh one, between two writes, losing nothing;
- worker processes (``lmi``, ``ondemand``) write straight to the inherited descriptor, opened
  for appending: rotation copies the file and truncates it (logrotate's ``copytruncate``; the
  workers' appends continue at the new end). A line a worker writes during the copy can be lost;
  the copy runs on a thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from typing import BinaryIO


class HandlerLog:
    """``handlers.log`` opened for appending, with size-based rotation."""

    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.rotated = path.with_name(path.name + ".1")
        self.max_bytes = max_bytes
        self.file: BinaryIO = open(path, "ab")

    def write(self, text: str) -> None:
        """Append lines (the in-process runtime's writes)."""
        self.file.write(text.encode("utf-8"))

    def flush(self) -> None:
        self.file.flush()

    def _full(self) -> bool:
        return bool(self.max_bytes) and os.fstat(self.file.fileno()).st_size >= self.max_bytes

    def rotate_if_full(self) -> bool:
        """In-process writer: rename the full file to ``.1`` and continue in a fresh one."""
        self.file.flush()
        if not self._full():
            return False
        self.file.close()
        try:
            os.replace(self.path, self.rotated)
        finally:  # renamed or not, writes go on into an open file
            self.file = open(self.path, "ab")
        return True

    async def copy_truncate_if_full(self) -> bool:
        """Shared with worker processes: copy the full file to ``.1``, then empty it in place."""
        if not self._full():
            return False
        await asyncio.to_thread(shutil.copyfile, self.path, self.rotated)
        os.truncate(self.path, 0)
        return True

    def close(self) -> None:
        self.file.close()
