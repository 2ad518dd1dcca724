"""Extra handlers the gateway tests route to (importable by the `wsrelay serve` child process)."""

from __future__ import annotations

import json
import os
import time
from typing import Any


def record(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Append every event to $RECORD_EVENTS (one JSON per line) and accept."""
    with open(os.environ["RECORD_EVENTS"], "a") as out:
        out.write(json.dumps(event) + "\n")
    return {"statusCode": 200}


def explode(event: dict[str, Any], context: Any) -> dict[str, int]:
    raise RuntimeError("boom")


def reject(event: dict[str, Any], context: Any) -> dict[str, int]:
    return {"statusCode": 403}


def slow(event: dict[str, Any], context: Any) -> dict[str, int]:
    time.sleep(0.4)
    return {"statusCode": 200}
