"""Runs in the child processes of test_lmi_processes (one process = one LMI request process)."""

from __future__ import annotations

import os


def init(env: dict[str, str]) -> None:
    os.environ.update(env)
    import wsrelay.handlers  # noqa: F401  - the per-process init, as LMI runs it


def invoke(route: str, connection_id: str, body: str | None) -> tuple[int, int]:
    import wsrelay.handlers as handlers

    event = {
        "requestContext": {"connectionId": connection_id, "routeKey": route, "requestId": "r"},
        "body": body,
        "isBase64Encoded": False,
    }
    fn = {"$connect": handlers.onconnect, "$disconnect": handlers.ondisconnect}.get(
        route, handlers.sendmessage
    )
    return fn(event, None)["statusCode"], os.getpid()


def warm(seconds: float) -> int:
    """Keep this process busy so the pool starts all its processes."""
    import time

    time.sleep(seconds)
    return os.getpid()
