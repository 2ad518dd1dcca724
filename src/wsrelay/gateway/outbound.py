"""The in-process runtime's outbound: the gateway's own connections, no HTTP hop.

`GatewayClient` quacks like boto3's ``apigatewaymanagementapi`` client for the one call the relay
makes (``post_to_connection``), raising the same ``ClientError`` shapes, so the in-process
runtime reuses `ManagementApiOutbound` unchanged: the same fan-out, retries and 410/413
handling as in AWS.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from wsrelay.outbound.management_api import ManagementApiOutbound

if TYPE_CHECKING:
    from wsrelay.gateway.server import Gateway

_ERROR_CODES = {410: "GoneException", 413: "PayloadTooLargeException", 429: "LimitExceededException"}


class GatewayClient:
    """``post_to_connection`` straight into a running `Gateway` (called from worker threads)."""

    def __init__(self, gateway: Gateway, loop: asyncio.AbstractEventLoop, timeout_s: float) -> None:
        self.gateway = gateway
        self.loop = loop
        self.timeout_s = timeout_s

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:  # noqa: N803
        future = asyncio.run_coroutine_threadsafe(self.gateway.post(ConnectionId, Data), self.loop)
        status = future.result(self.timeout_s)
        if status != 200:
            code = _ERROR_CODES.get(status, "InternalServerErrorException")
            raise ClientError(
                {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
                "PostToConnection",
            )
        return {"ResponseMetadata": {"HTTPStatusCode": 200}}


def gateway_outbound(gateway: Gateway, loop: asyncio.AbstractEventLoop, timeout_s: float) -> ManagementApiOutbound:
    """An `Outbound` that posts to `gateway`'s connections."""
    return ManagementApiOutbound(GatewayClient(gateway, loop, timeout_s))
