"""The Lambda face's types: the API Gateway WebSocket proxy event a handler receives
(`WebSocketEvent`, the one `Event` alias), the context object (`LambdaContext`, a Protocol the
Lambda runtime's object and the local stack's contexts both satisfy) and the proxy result.

Typing only: no code runs here, so it costs the handlers' init nothing.
"""

from __future__ import annotations

from typing import Any, Protocol, TypedDict


class RequestContext(TypedDict, total=False):
    """``requestContext`` of a WebSocket proxy event: the fields wsrelay reads, and the ones the
    local stack fills in as API Gateway does."""

    routeKey: str
    eventType: str  # CONNECT, DISCONNECT, MESSAGE
    connectionId: str
    requestId: str
    extendedRequestId: str
    messageId: str
    domainName: str
    stage: str
    apiId: str
    connectedAt: int
    requestTime: str
    requestTimeEpoch: int
    messageDirection: str
    disconnectStatusCode: int
    disconnectReason: str
    identity: dict[str, Any]
    # The Lambda authorizer's context (``role``, ``mode``, ``sub``, ``refused``) with its
    # ``principalId``, on every event of an authorized connection.
    authorizer: dict[str, Any]


class WebSocketEvent(TypedDict, total=False):
    """An API Gateway WebSocket proxy event (``$connect``, ``$disconnect``, a message)."""

    requestContext: RequestContext
    body: str
    isBase64Encoded: bool
    headers: dict[str, str]
    multiValueHeaders: dict[str, list[str]]
    queryStringParameters: dict[str, str]
    multiValueQueryStringParameters: dict[str, list[str]]


Event = WebSocketEvent


class LambdaContext(Protocol):
    """The part of Lambda's context object a handler may use."""

    @property
    def aws_request_id(self) -> str: ...

    @property
    def function_name(self) -> str: ...

    def get_remaining_time_in_millis(self) -> int: ...


class ProxyResult(TypedDict):
    """What a WebSocket route's handler returns to API Gateway."""

    statusCode: int
