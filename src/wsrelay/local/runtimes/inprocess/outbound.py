"""The in-process runtime's outbound: the gateway's own connections, no HTTP hop.

`GatewayClient` quacks like boto3's ``apigatewaymanagementapi`` client for the two calls the
relay makes (``post_to_connection``, ``delete_connection``), raising the same ``ClientError``
shapes, so the in-process runtime reuses `ManagementApiOutbound` unchanged: the same fan-out,
retries and 410/413 handling as in AWS.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from wsrelay.outbound.api_errors import error_for
from wsrelay.outbound.management_api import ManagementApiOutbound

if TYPE_CHECKING:
    from wsrelay.local.open_connections import Connections


class GatewayClient:
    """``post_to_connection`` straight into the gateway's `Connections`.

    Called on the event loop's thread (handlers run inline) it posts synchronously; from a worker
    thread it hands the post to the loop and waits for its answer.
    """

    def __init__(self, connections: Connections, loop: asyncio.AbstractEventLoop, timeout_s: float) -> None:
        self.connections = connections
        self.loop = loop
        self.timeout_s = timeout_s
        self.loop_thread = threading.get_ident()

    def post_to_connection(self, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        if threading.get_ident() == self.loop_thread:
            status = self.connections.post_now(ConnectionId, Data)
        else:
            future = asyncio.run_coroutine_threadsafe(self.connections.post(ConnectionId, Data), self.loop)
            status = future.result(self.timeout_s)
        return _answer(status, "PostToConnection")

    def delete_connection(self, ConnectionId: str) -> dict[str, Any]:
        if threading.get_ident() == self.loop_thread:
            closed = self.connections.delete(ConnectionId)
        else:
            future = asyncio.run_coroutine_threadsafe(self._delete(ConnectionId), self.loop)
            closed = future.result(self.timeout_s)
        return _answer(204 if closed else 410, "DeleteConnection")

    async def _delete(self, connection_id: str) -> bool:
        return self.connections.delete(connection_id)


def _answer(status: int, operation: str) -> dict[str, Any]:
    """boto3's answer to a call: the response, or the ``ClientError`` it raises."""
    if status >= 300:
        error = error_for(status)
        raise ClientError(
            {
                "Error": {"Code": error.error_type, "Message": error.message},
                "ResponseMetadata": {"HTTPStatusCode": status},
            },
            operation,
        )
    return {"ResponseMetadata": {"HTTPStatusCode": status}}


class SerialExecutor:
    """``map`` in the calling thread: fan-out for handlers that run inline on the event loop."""

    def map(self, fn: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        return map(fn, items)


def gateway_outbound(
    connections: Connections, loop: asyncio.AbstractEventLoop, timeout_s: float, inline: bool
) -> ManagementApiOutbound:
    """An `Outbound` that posts to the gateway's connections (created on the loop's thread).

    Inline, posts are synchronous buffer writes: fan-out needs no threads and a retry (only an
    injected 429 can ask for one) does not sleep, since sleeping would block the loop.
    """
    client = GatewayClient(connections, loop, timeout_s)
    if inline:
        return ManagementApiOutbound(client, executor=SerialExecutor(), sleep=lambda _: None)  # type: ignore[arg-type]
    return ManagementApiOutbound(client)
