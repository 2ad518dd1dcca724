"""One JSON log line per invocation, carrying its CloudWatch EMF metrics.

The line holds ``requestId, route, connectionId, guid, outcome, durationMs`` and, when the
invocation counted anything, an ``_aws`` block in CloudWatch Embedded Metric Format: namespace
``WSRELAY_METRICS_NAMESPACE``, one dimension set ``[service]`` (so alarms match one series per
metric). CloudWatch extracts the metrics from the log line; nothing else is called.

Written by hand instead of with aws-lambda-powertools' Metrics: powertools keeps metrics in
state shared by every instance of the process, which mixes concurrent invocations when the
local gateway runs handlers on a thread pool, and its import adds ~55 ms to every LMI process
start. This module is ~50 lines and per-invocation by construction.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from wsrelay.relay import DELIVERY_LATENCY, Outcome


def invocation_record(
    *,
    namespace: str,
    service: str,
    request_id: str,
    route: str,
    connection_id: str | None,
    outcome: Outcome,
    duration_ms: float,
    timestamp_ms: int,
    level: str = "INFO",
    error: str | None = None,
) -> dict[str, Any]:
    """The log record of one invocation, with EMF metrics when it counted any."""
    record: dict[str, Any] = {
        "level": level,
        "timestamp": timestamp_ms,
        "service": service,
        "requestId": request_id,
        "route": route,
        "connectionId": connection_id,
        "guid": outcome.guid,
        "outcome": outcome.outcome,
        "durationMs": round(duration_ms, 3),
    }
    if outcome.notes:
        record["notes"] = outcome.notes
    if error is not None:
        record["error"] = error
    metrics = [{"Name": name, "Unit": "Count"} for name, n in outcome.counts.items() if n]
    for name, n in outcome.counts.items():
        if n:
            record[name] = n
    if outcome.latencies_ms:
        metrics.append({"Name": DELIVERY_LATENCY, "Unit": "Milliseconds"})
        values = [round(v, 3) for v in outcome.latencies_ms]
        record[DELIVERY_LATENCY] = values[0] if len(values) == 1 else values
    if metrics:
        record["_aws"] = {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": namespace, "Dimensions": [["service"]], "Metrics": metrics}],
        }
    return record


_sink: Callable[[str], Any] | None = None


def set_sink(write: Callable[[str], Any] | None) -> None:
    """Send every later line to `write` instead of stdout (the local gateway's log file)."""
    global _sink
    _sink = write


def write_line(record: dict[str, Any], write: Callable[[str], Any] | None = None) -> None:
    """Write the record as one compact JSON line (stdout by default, as Lambda collects it)."""
    line = json.dumps(record, separators=(",", ":"), default=str) + "\n"
    (write or _sink or sys.stdout.write)(line)
