"""What one job of the relay uses, in the units AWS bills: Lambda invocations of each function,
DynamoDB write units, API Gateway WebSocket messages, and bytes through a NAT gateway. The cost
model (`wsrelay.tools.cost.model`) multiplies these by the traffic and the prices.

A job is one compilation's result: the router subscribes to its guid, the worker publishes the
result, the router acks it and unsubscribes (docs/protocol.md).
"""

from __future__ import annotations

import math

from wsrelay.tools.cost.inputs import Inputs
from wsrelay.tools.cost.sizing import Measured

KIB = 1024
# API Gateway meters WebSocket messages in 32 KB units: a 33 KB message counts as two.
WEBSOCKET_UNIT_BYTES = 32 * KIB
ACK_FRAME_BYTES = 100  # {"type":"ack","guid":...,"acknowledgedBy":...}


def _mean(inputs: Inputs, per_size: dict[int, float]) -> float:
    total = sum(w for _, w in inputs.result_sizes)
    return sum(per_size[size] * w for size, w in inputs.result_sizes) / total


def mean_result_bytes(inputs: Inputs) -> float:
    """Mean result size in bytes."""
    return _mean(inputs, {s: float(s) for s, _ in inputs.result_sizes})


def write_units_per_job(inputs: Inputs) -> float:
    """Mean DynamoDB write units per job: an UpdateItem bills the larger of the item before
    and after, so publish, each resend and the ack (which removes the result) are billed by the
    result's size; subscribe (before the publish) and unsubscribe (after the ack) by 1 KB."""
    per_size = {
        size: 2 + (2 + inputs.resend_fraction) * math.ceil((size + inputs.item_overhead_bytes) / KIB)
        for size, _ in inputs.result_sizes
    }
    return _mean(inputs, per_size)


def websocket_units_per_job(inputs: Inputs) -> float:
    """API Gateway WebSocket messages billed per job (sent and received alike, 32 KB units).

    Received: the router's control frames (subscribe, ack, unsubscribe: the sendmessage
    invocations other than the publish) and each publish of the result (and its resends).
    Sent (posts to ``@connections``): the result to the subscriber for each publish, and one ack
    to the publisher for each publish frame. ``$connect`` and ``$disconnect`` are not messages;
    the text ``ping`` is sent only by a connection idle for 5 minutes, which a busy one is not."""
    result_units = _mean(
        inputs, {s: float(math.ceil(s / WEBSOCKET_UNIT_BYTES)) for s, _ in inputs.result_sizes}
    )
    publishes = 1 + inputs.resend_fraction
    control = inputs.invocations_per_job - 1
    return control + publishes * (2 * result_units + 1)


def invocation_rates(inputs: Inputs, jobs_per_s: float) -> dict[str, float]:
    """Invocations per second of each function at a job rate."""
    reconnects = inputs.connections / inputs.connection_lifetime_s
    return {
        "sendmessage": jobs_per_s * (inputs.invocations_per_job + inputs.resend_fraction),
        "onconnect": reconnects,
        "ondisconnect": reconnects,
    }


def nat_bytes_per_s(inputs: Inputs, figures: Measured, managed: list[str], rates: dict[str, float]) -> float:
    """Bytes a second the LMI functions send or receive through a NAT gateway: their log lines,
    and for sendmessage the posts (result, ack, request and response overhead) and, without a
    DynamoDB gateway endpoint, every DynamoDB request."""
    log_bytes = figures.log_bytes + inputs.platform_log_bytes
    total = sum(rates[name] * log_bytes for name in managed)
    if "sendmessage" in managed:
        jobs = rates["sendmessage"] / (inputs.invocations_per_job + inputs.resend_fraction)
        result = mean_result_bytes(inputs)
        total += jobs * (result + ACK_FRAME_BYTES + 2 * inputs.post_overhead_bytes)
        if not inputs.dynamodb_gateway_endpoint:
            ops = inputs.invocations_per_job + inputs.resend_fraction
            total += jobs * ops * (result + inputs.item_overhead_bytes + inputs.post_overhead_bytes)
    return total
