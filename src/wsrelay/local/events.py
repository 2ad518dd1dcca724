"""API Gateway WebSocket proxy events, built the way API Gateway builds them.

Used by the local gateway to invoke the handlers and by tests. Shapes follow docs/aws-facts.md
("Lambda proxy event") and aws-lambda-powertools'
``APIGatewayWebSocket{Connect,Message,Disconnect}EventModel``: connection, request and message
ids are 16-character base64 strings like AWS's (``L0SM9cOFvHcCIhw=``), ``connectedAt`` is fixed
per connection, ``$connect`` and ``$disconnect`` carry headers.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from wsrelay.lambda_types import Event


def aws_id() -> str:
    """A random id in API Gateway's shape: 11 random bytes -> 16 base64 characters.

    Ids only need to be unique, not secret: `random` avoids a getrandom syscall per id.
    """
    return base64.b64encode(random.getrandbits(88).to_bytes(11, "big")).decode("ascii")


def _three_ids() -> tuple[str, str, str]:
    """Request, extended request and message id of one event, from one random draw."""
    text = base64.b64encode(random.getrandbits(272).to_bytes(34, "big")).decode("ascii")
    return text[0:15] + "=", text[15:30] + "=", text[30:45] + "="


_last_second = -1
_last_request_time = ""


def _request_time(epoch_ms: int) -> str:
    global _last_second, _last_request_time
    second = epoch_ms // 1000
    if second != _last_second:
        _last_request_time = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
        _last_second = second
    return _last_request_time


@dataclass
class ConnectionInfo:
    """What API Gateway knows about one connection, fixed at $connect."""

    connection_id: str = field(default_factory=aws_id)
    connected_at_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    source_ip: str = "127.0.0.1"
    user_agent: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    # What the $connect authorizer allowed the connection with (``principalId``, its context):
    # every later event's ``requestContext.authorizer``. None without an authorizer.
    authorizer: dict[str, str | int] | None = None


@dataclass(frozen=True)
class Api:
    """The API a gateway serves: its id, domain and stage."""

    api_id: str = "wsrelaylcl"
    domain_name: str = "127.0.0.1"
    stage: str = "local"
    region: str = "us-east-1"
    account_id: str = "000000000000"  # no account: the local API's ARNs need one

    def route_arn(self, route_key: str) -> str:
        """The ARN of a route, as an authorizer's ``methodArn`` names it (``.../stage/$connect``)."""
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api_id}/{self.stage}/{route_key}"


def _context(
    api: Api, conn: ConnectionInfo, route_key: str, event_type: str, extra: Mapping[str, Any]
) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    request_id, extended_request_id, message_id = _three_ids()
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": extended_request_id,
        "requestTime": _request_time(now_ms),
        "messageDirection": "IN",
        "stage": api.stage,
        "connectedAt": conn.connected_at_ms,
        "requestTimeEpoch": now_ms,
        "identity": {"sourceIp": conn.source_ip, "userAgent": conn.user_agent},
        "requestId": request_id,
        "domainName": api.domain_name,
        "connectionId": conn.connection_id,
        "apiId": api.api_id,
    }
    if event_type == "MESSAGE":
        context["messageId"] = message_id
    if conn.authorizer is not None:
        context["authorizer"] = conn.authorizer  # shared, never mutated: no copy per message
    context.update(extra)
    return context


def _header_fields(conn: ConnectionInfo) -> dict[str, Any]:
    return {
        "headers": dict(conn.headers),
        "multiValueHeaders": {k: [v] for k, v in conn.headers.items()},
    }


def connect_event(api: Api, conn: ConnectionInfo) -> Event:
    """The $connect event."""
    event: dict[str, Any] = _header_fields(conn)
    if conn.query:
        event["queryStringParameters"] = dict(conn.query)
        event["multiValueQueryStringParameters"] = {k: [v] for k, v in conn.query.items()}
    event["requestContext"] = _context(api, conn, "$connect", "CONNECT", {})
    event["isBase64Encoded"] = False
    return cast(Event, event)


def authorizer_event(api: Api, conn: ConnectionInfo) -> dict[str, Any]:
    """The REQUEST authorizer's event for a connection's ``$connect`` (docs/aws-facts.md,
    "Authorization"): ``type``, ``methodArn``, the upgrade's headers and query string,
    ``stageVariables`` and the ``$connect`` request context."""
    event: dict[str, Any] = {"type": "REQUEST", "methodArn": api.route_arn("$connect")}
    event.update(_header_fields(conn))
    event["queryStringParameters"] = dict(conn.query)
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in conn.query.items()}
    event["stageVariables"] = {}
    event["requestContext"] = _context(api, conn, "$connect", "CONNECT", {})
    return event


def disconnect_event(api: Api, conn: ConnectionInfo, status_code: int, reason: str) -> Event:
    """The $disconnect event, with the close code and reason API Gateway reports."""
    event: dict[str, Any] = _header_fields(conn)
    event["requestContext"] = _context(
        api,
        conn,
        "$disconnect",
        "DISCONNECT",
        {"disconnectStatusCode": status_code, "disconnectReason": reason},
    )
    event["isBase64Encoded"] = False
    return cast(Event, event)


def message_event(api: Api, conn: ConnectionInfo, route_key: str, data: str | bytes) -> Event:
    """A MESSAGE event; binary frames arrive base64-encoded, as in AWS."""
    binary = isinstance(data, bytes)
    body = base64.b64encode(data).decode("ascii") if isinstance(data, bytes) else data
    return cast(
        Event,
        {
            "requestContext": _context(api, conn, route_key, "MESSAGE", {}),
            "body": body,
            "isBase64Encoded": binary,
        },
    )
