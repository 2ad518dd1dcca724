"""The three Lambda entry points: ``onconnect``, ``ondisconnect``, ``sendmessage``.

Each takes an API Gateway WebSocket proxy event and returns ``{"statusCode": int}``. Module
import is the Lambda init: configuration is validated (a bad variable fails the init with a
message naming it), and the store's and the Management API's clients are built once per process
(on Lambda Managed Instances every concurrent request is its own process; nothing correct lives
in this module's memory, it only caches clients).

Hosts other than Lambda (the local gateway's in-process runtime, tests) may `bind` their own
store or outbound before calling the handlers.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from wsrelay.config import Settings
from wsrelay.ports import Outbound, Store
from wsrelay.relay import HANDLER_ERRORS, Outcome, Relay
from wsrelay.telemetry import invocation_line, write_line

SETTINGS = Settings.from_env()

# Time budget (API Gateway gives up after 29 s). One DynamoDB call: at most 3 attempts of
# 1 s connect + 1 s read, with botocore's standard backoff (< 2 s, < 4 s): < 12 s. Posts: 5 s
# deadline each, in parallel. Removing gone subscribers (optional: the TTL covers them) only
# starts within CLEANUP_BUDGET_S. Worst case: 10 + 12 = 22 s.
CLEANUP_BUDGET_S = 10.0

_lock = threading.Lock()
_session: Any = None
_store: Store | None = None
_bound_outbound: Outbound | None = None
_outbounds: dict[str, Outbound] = {}


class BadEvent(ValueError):
    """The event lacks a field every API Gateway WebSocket event carries."""


def _boto_session() -> Any:
    global _session
    if _session is None:
        import boto3

        _session = boto3.session.Session(region_name=SETTINGS.region)
    return _session


def _build_store(settings: Settings) -> Store:
    if settings.store == "sqlite":
        from wsrelay.stores.sqlite import SqliteStore

        return SqliteStore(settings.sqlite_path, settings.result_ttl_seconds, settings.sqlite_shared)
    from botocore.config import Config

    from wsrelay.stores.dynamodb import DynamoDBStore

    client = _boto_session().client(
        "dynamodb",
        config=Config(
            retries={"total_max_attempts": 3, "mode": "standard"},
            connect_timeout=1,
            read_timeout=1,
            tcp_keepalive=True,
        ),
    )
    return DynamoDBStore(client, settings.table, settings.result_ttl_seconds, settings.legacy_subscriptions)


def _management_outbound(endpoint: str) -> Outbound:
    from wsrelay.outbound.management_api import ManagementApiOutbound, client_config

    client = _boto_session().client("apigatewaymanagementapi", endpoint_url=endpoint, config=client_config())
    return ManagementApiOutbound(client)


def bind(store: Store | None = None, outbound: Outbound | None = None) -> None:
    """Replace the store and/or the outbound for every later invocation in this process."""
    global _store, _bound_outbound
    with _lock:
        if store is not None:
            _store = store
        if outbound is not None:
            _bound_outbound = outbound


def current_store() -> Store:
    """The store every invocation in this process uses (built from the settings at init, or
    bound); the local gateway reaches it to flush an owned SQLite store."""
    global _store
    if _store is None:
        with _lock:
            if _store is None:
                _store = _build_store(SETTINGS)
    return _store


def _outbound_for(request_context: Mapping[str, Any]) -> Outbound:
    if _bound_outbound is not None:
        return _bound_outbound
    endpoint = SETTINGS.management_endpoint
    if endpoint is None:
        domain, stage = request_context.get("domainName"), request_context.get("stage")
        if not domain or not stage:
            raise BadEvent("requestContext.domainName and requestContext.stage")
        endpoint = f"https://{domain}/{stage}"
    outbound = _outbounds.get(endpoint)
    if outbound is None:
        with _lock:
            outbound = _outbounds.get(endpoint)
            if outbound is None:
                outbound = _outbounds[endpoint] = _management_outbound(endpoint)
    return outbound


# Lambda init: build the clients now, not on the first request.
current_store()
if SETTINGS.management_endpoint is not None:
    _outbound_for({})


def _message_text(event: Mapping[str, Any]) -> str | None:
    body = event.get("body")
    if not isinstance(body, str):
        raise BadEvent("body")
    if not event.get("isBase64Encoded"):
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def _invoke(
    route: str,
    event: Any,
    context: Any,
    action: Callable[[Relay, str, Mapping[str, Any]], Outcome],
) -> dict[str, int]:
    started = time.perf_counter()
    request_context = event.get("requestContext") if isinstance(event, dict) else None
    if not isinstance(request_context, dict):
        request_context = {}
    connection_id = request_context.get("connectionId")
    request_id = str(getattr(context, "aws_request_id", None) or request_context.get("requestId") or "-")
    route = str(request_context.get("routeKey") or route)

    def log(outcome: Outcome, level: str = "INFO", error: str | None = None) -> None:
        write_line(
            invocation_line(
                namespace=SETTINGS.metrics_namespace,
                service=SETTINGS.service,
                request_id=request_id,
                route=route,
                connection_id=connection_id if isinstance(connection_id, str) else None,
                outcome=outcome,
                duration_ms=(time.perf_counter() - started) * 1000.0,
                timestamp_ms=int(time.time() * 1000),
                level=level,
                error=error,
            )
        )

    try:
        if not isinstance(connection_id, str) or not connection_id:
            raise BadEvent("requestContext.connectionId")
        relay = Relay(
            current_store(), _outbound_for(request_context), time.time, time.time() + CLEANUP_BUDGET_S
        )
        outcome = action(relay, connection_id, event)
    except BadEvent as missing:
        log(Outcome("bad_event"), "ERROR", f"event is missing {missing}")
        return {"statusCode": 400}
    except Exception as error:
        failed = Outcome("error")
        failed.counts[HANDLER_ERRORS] += 1
        log(failed, "ERROR", "".join(traceback.format_exception_only(error)).strip())
        raise  # Lambda counts the error; API Gateway tells the client "Internal server error"
    log(outcome)
    return {"statusCode": 200}


def onconnect(event: Any, context: Any) -> dict[str, int]:
    """$connect: accept the connection (nothing is stored)."""
    return _invoke("$connect", event, context, lambda relay, cid, _: relay.connect(cid))


def ondisconnect(event: Any, context: Any) -> dict[str, int]:
    """$disconnect: best effort; nothing depends on it."""
    return _invoke("$disconnect", event, context, lambda relay, cid, _: relay.disconnect(cid))


def _message(relay: Relay, connection_id: str, event: Mapping[str, Any]) -> Outcome:
    text = _message_text(event)
    if text is None:
        return relay.receive_binary(connection_id)
    return relay.receive(connection_id, text)


def sendmessage(event: Any, context: Any) -> dict[str, int]:
    """$default (every frame the clients send): subscribe, unsubscribe, ack, ping, publish."""
    return _invoke("$default", event, context, _message)
