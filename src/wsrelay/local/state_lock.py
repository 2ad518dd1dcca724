"""One `wsrelay serve` per state directory: an exclusive lock on ``STATE_DIR/serve.lock`` that
names its holder (pid and port), so a second server fails at once and says which server holds
the directory, instead of waiting on SQLite's "database is locked".

The lock is ``flock``: the kernel releases it when the holder exits, however it exits, so a
crashed server leaves no stale lock behind (the file's text is only the holder's name).
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from wsrelay.local.settings import StartupError

LOCK_NAME = "serve.lock"


class StateLock:
    """The held lock of one state directory."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or `StartupError` naming the server that holds it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "a server starting up"
            os.close(fd)
            raise StartupError(
                f"--state-dir {self.path.parent} is in use by another wsrelay serve ({holder}); "
                "stop it, or give this one another --state-dir"
            ) from None
        self._fd = fd
        self.name(port=None)

    def name(self, port: int | None) -> None:
        """Write this server's pid (and port, once it listens) into the lock file."""
        if self._fd is None:
            return
        text = f"pid {os.getpid()}" + (f", port {port}" if port is not None else "")
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode(), 0)

    def release(self) -> None:
        """Let the directory go (closing the descriptor releases the flock)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
