"""One JSON log line per invocation, carrying its CloudWatch EMF metrics.

The line holds ``requestId, route, connectionId, guid, outcome, durationMs`` and, when the
invocation counted anything, an ``_aws`` block in CloudWatch Embedded Metric Format: namespace
``WSRELAY_METRICS_NAMESPACE``, one dimension set ``[service]`` (so alarms match one series per
metric). CloudWatch extracts the metrics from the log line; nothing else is called.

Written by hand instead of with aws-lambda-powertools' Metrics: powertools keeps metrics in
state shared by every instance of the process, which mixes concurrent invocations when the
local gateway runs handlers on a thread pool, and its import adds ~55 ms to every LMI process
start. This module is short and per-invocation by construction.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from json.encoder import encode_basestring as _quote
from typing import Any

from wsrelay.relay import DELIVERY_LATENCY, Outcome


def _text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


def invocation_line(
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
) -> str:
    """The JSON log line of one invocation (newline-terminated), with EMF when it counted any.

    Composed from parts rather than with ``json.dumps`` of a dict: the same JSON, at a third of
    the cost, which matters when the local gateway runs thousands of invocations a second.
    Strings go through json's own escaping; metric names are fixed identifiers.
    """
    parts = [
        '{"level":', _quote(level),
        ',"timestamp":', str(timestamp_ms),
        ',"service":', _quote(service),
        ',"requestId":', _quote(request_id),
        ',"route":', _quote(route),
        ',"connectionId":', _text(connection_id),
        ',"guid":', _text(outcome.guid),
        ',"outcome":', _quote(outcome.outcome),
        ',"durationMs":', repr(round(duration_ms, 3)),
    ]  # fmt: skip
    if outcome.notes:
        parts += [',"notes":[', ",".join(map(_quote, outcome.notes)), "]"]
    if error is not None:
        parts += [',"error":', _quote(error)]
    units = []
    for name, n in outcome.counts.items():
        if n:
            parts += [',"', name, '":', str(n)]
            units.append((name, "Count"))
    if outcome.latencies_ms:
        values = [repr(round(v, 3)) for v in outcome.latencies_ms]
        latency = values[0] if len(values) == 1 else "[" + ",".join(values) + "]"
        parts += [',"', DELIVERY_LATENCY, '":', latency]
        units.append((DELIVERY_LATENCY, "Milliseconds"))
    if units:
        metrics = ",".join(f'{{"Name":"{name}","Unit":"{unit}"}}' for name, unit in units)
        parts += [
            ',"_aws":{"Timestamp":', str(timestamp_ms),
            ',"CloudWatchMetrics":[{"Namespace":', _quote(namespace),
            ',"Dimensions":[["service"]],"Metrics":[', metrics, "]}]}",
        ]  # fmt: skip
    parts.append("}\n")
    return "".join(parts)


_sink: Callable[[str], Any] | None = None


def set_sink(write: Callable[[str], Any] | None) -> None:
    """Send every later line to `write` instead of stdout (the local gateway's log file)."""
    global _sink
    _sink = write


def write_line(line: str) -> None:
    """Write one log line (stdout by default, as Lambda collects it)."""
    (_sink or sys.stdout.write)(line)
