"""A handler the gateway tests route to, proving that invocations overlap without timing them.

Each invocation registers itself in $RENDEZVOUS_DIR and returns only once $RENDEZVOUS_COUNT
invocations have registered: run one after the other, the first never sees the others and fails
(a handler error the test sees in the gateway's stats)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from waiting import wait_until


def meet(event: dict[str, Any], context: Any) -> dict[str, int]:
    directory = Path(os.environ["RENDEZVOUS_DIR"])
    expected = int(os.environ["RENDEZVOUS_COUNT"])
    (directory / uuid.uuid4().hex).write_text(str(os.getpid()))  # one file per invocation
    wait_until(
        lambda: len(list(directory.iterdir())) >= expected,
        timeout=20,
        what=f"{expected} invocations running at once",
    )
    return {"statusCode": 200}
