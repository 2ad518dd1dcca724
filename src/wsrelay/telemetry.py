"""One JSON log line per invocation, carrying its CloudWatch EMF metrics.

The line holds ``requestId, route, connectionId, guid, outcome, durationMs`` (and ``role`` when
an authorizer gave the connection one) and, when the
invocation counted anything, an ``_aws`` block in CloudWatch Embedded Metric Format: namespace
``WSRELAY_METRICS_NAMESPACE``, one dimension set ``[service]`` (so alarms match one series per
metric). CloudWatch extracts the metrics from the log line; nothing else is called.

Written by hand instead of with aws-lambda-powertools' Metrics: powertools keeps metrics in
state shared by every instance of the process, which mixes concurrent invocations when the
local gateway runs handlers on a thread pool, and its import adds to every LMI process start
(docs/benchmarks.md). This module is short and per-invocation by construction.
"""

from __future__ import annotations

import functools
from json.encoder import encode_basestring as _quote

from wsrelay.relay import DELIVERY_LATENCY, Outcome


def _text(value: str | None) -> str:
    return "null" if value is None else _quote(value)


@functools.lru_cache(maxsize=256)
def _emf_tail(namespace: str, units: tuple[tuple[str, str], ...]) -> str:
    """The part of the ``_aws`` block after its timestamp, per namespace and metric set."""
    metrics = ",".join(f'{{"Name":"{name}","Unit":"{unit}"}}' for name, unit in units)
    return (
        f',"CloudWatchMetrics":[{{"Namespace":{_quote(namespace)},'
        f'"Dimensions":[["service"]],"Metrics":[{metrics}]}}]}}'
    )


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
    role: str | None = None,
) -> str:
    """The JSON log line of one invocation (newline-terminated), with EMF when it counted any.

    Composed from parts rather than with ``json.dumps`` of a dict: the same JSON at a fraction of
    the cost, which matters when the local gateway runs thousands of invocations a second.
    Strings go through json's own escaping; metric names are fixed identifiers; milliseconds
    are written with 3 decimals (``1.200``: the same number, cheaper than ``repr(round())``).
    """
    line = (
        f'{{"level":{_quote(level)},"timestamp":{timestamp_ms},"service":{_quote(service)},'
        f'"requestId":{_quote(request_id)},"route":{_quote(route)},'
        f'"connectionId":{_text(connection_id)},"guid":{_text(outcome.guid)},'
        f'"outcome":{_quote(outcome.outcome)},"durationMs":{duration_ms:.3f}'
    )
    if role is not None:  # the authorizer's role for the connection (absent without one)
        line += ',"role":' + _quote(role)
    if outcome.notes:
        line += ',"notes":[' + ",".join(map(_quote, outcome.notes)) + "]"
    if error is not None:
        line += ',"error":' + _quote(error)
    units: list[tuple[str, str]] = []
    for name, n in outcome.counts.items():
        if n:
            line += f',"{name}":{n}'
            units.append((name, "Count"))
    if outcome.latencies_ms:
        values = [f"{v:.3f}" for v in outcome.latencies_ms]
        latency = values[0] if len(values) == 1 else "[" + ",".join(values) + "]"
        line += f',"{DELIVERY_LATENCY}":{latency}'
        units.append((DELIVERY_LATENCY, "Milliseconds"))
    if units:
        line += f',"_aws":{{"Timestamp":{timestamp_ms}{_emf_tail(namespace, tuple(units))}'
    return line + "}\n"
