"""moto's server, answering one request at a time: ``python -m wsrelay.testing.moto_serial HOST PORT``.

moto's own ``moto_server`` is threaded and its backends take no lock, so two concurrent
UpdateItems on one key can both read the old item and one of them is lost: DynamoDB never does
that (single-item writes are atomic). Serving requests one at a time restores the property
wsrelay's storage design relies on, so the store contract's race tests test wsrelay, not moto.
`running()` starts it as a child process on a free loopback port (tests, benchmarks).
Development only (moto is a dev dependency).
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator


def free_port() -> int:
    """A TCP port nothing listens on right now, on 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    """Return once something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s") from None
            time.sleep(0.05)


@contextlib.contextmanager
def running() -> Iterator[str]:
    """This server in a child process; yields its endpoint URL, stops it on exit."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "wsrelay.testing.moto_serial", "127.0.0.1", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


def main(argv: list[str]) -> None:
    """Serve moto on HOST PORT until killed."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    host, port = argv[0], int(argv[1])
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, app, threaded=False, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1:])
