"""Runs in the child processes of test_lmi_processes (one process = one LMI request process).

`init` is the Lambda init of one process: the relay's functions built from that process's
environment (as `wsrelay.handlers` builds them at import), without writing ``os.environ``;
``WSRELAY_PUBLISHER_ACK`` is ``router`` unless `env` sets it (as in `conftest.build_functions`)."""

from __future__ import annotations

import os
import uuid

from wsrelay.functions import RelayFunctions
from wsrelay.wiring import from_environment

_functions: RelayFunctions | None = None


def init(env: dict[str, str]) -> None:
    global _functions
    _functions = from_environment({"WSRELAY_PUBLISHER_ACK": "router", **os.environ, **env})


def invoke(route: str, connection_id: str, body: str | None) -> tuple[int, int]:
    assert _functions is not None
    event = {
        "requestContext": {"connectionId": connection_id, "routeKey": route, "requestId": "r"},
        "body": body,
        "isBase64Encoded": False,
    }
    fn = {"$connect": _functions.onconnect, "$disconnect": _functions.ondisconnect}.get(
        route, _functions.sendmessage
    )
    return fn(event, None)["statusCode"], os.getpid()


def warm(directory: str, count: int) -> int:
    """Register this process and return only once `count` calls run at once: the pool has
    started that many processes (each past its init)."""
    from pathlib import Path

    from waiting import wait_until

    (Path(directory) / uuid.uuid4().hex).write_text(str(os.getpid()))
    wait_until(lambda: len(os.listdir(directory)) >= count, 60, what=f"{count} pool processes up")
    return os.getpid()
