"""The invocation log line: valid JSON, the documented fields, EMF that CloudWatch accepts."""

from __future__ import annotations

import json
from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from wsrelay.relay import Outcome
from wsrelay.telemetry import invocation_line


def line(outcome: Outcome, **kw) -> dict:
    args = dict(
        namespace="wsrelay",
        service="wsrelay",
        request_id="r-1",
        route="$default",
        connection_id="abc=",
        outcome=outcome,
        duration_ms=1.23456,
        timestamp_ms=1700000000000,
    )
    args.update(kw)
    text = invocation_line(**args)
    assert text.endswith("\n") and text.count("\n") == 1
    return json.loads(text)


def test_fields_without_metrics():
    record = line(Outcome("pong"))
    assert record == {
        "level": "INFO",
        "timestamp": 1700000000000,
        "service": "wsrelay",
        "requestId": "r-1",
        "route": "$default",
        "connectionId": "abc=",
        "guid": None,
        "outcome": "pong",
        "durationMs": 1.235,
    }


def test_emf_block():
    outcome = Outcome("acked", "g1", Counter({"AcksRouted": 1, "PostRetries": 0}), [12.5, 3.0])
    record = line(outcome, service="relay-a", namespace="ns")
    assert record["AcksRouted"] == 1 and "PostRetries" not in record
    assert record["DeliveryLatency"] == [12.5, 3.0]
    emf = record["_aws"]
    assert emf["Timestamp"] == 1700000000000
    (directive,) = emf["CloudWatchMetrics"]
    assert directive == {
        "Namespace": "ns",
        "Dimensions": [["service"]],
        "Metrics": [
            {"Name": "AcksRouted", "Unit": "Count"},
            {"Name": "DeliveryLatency", "Unit": "Milliseconds"},
        ],
    }
    assert record["service"] == "relay-a"  # the dimension's value


@given(st.text(), st.lists(st.text(), max_size=3), st.text() | st.none())
def test_any_text_stays_valid_json(error, notes, connection_id):
    record = line(Outcome("x", notes=notes), error=error, connection_id=connection_id, level="ERROR")
    assert record["error"] == error and record.get("notes", []) == notes
    assert record["connectionId"] == connection_id
