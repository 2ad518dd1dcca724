"""The relay's three Lambda functions as one object: `RelayFunctions`.

Built from its dependencies (`Settings`, a `Store`, an outbound factory, a clock and a log
sink) and hosted twice: `wsrelay.handlers` builds one from the environment for Lambda (and the
local stack's worker processes), the local stack's in-process runtime builds its own. Each method
takes an API Gateway WebSocket proxy event and a context, runs one `Relay` call, writes one JSON
log line (with its EMF metrics) and returns ``{"statusCode": int}``.

It imports no AWS SDK, no asyncio and no gateway code; the hosts supply the adapters.
"""

from __future__ import annotations

import base64
import binascii
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from wsrelay.config import Settings
from wsrelay.lambda_types import Event, LambdaContext, ProxyResult
from wsrelay.ports import Outbound, Store
from wsrelay.relay import HANDLER_ERRORS, Outcome, Relay
from wsrelay.roles import PERMISSIVE
from wsrelay.telemetry import invocation_line

# Time budget (API Gateway gives up after 29 s). One DynamoDB call: at most 3 attempts of
# 1 s connect + 1 s read, with botocore's standard backoff (< 2 s, < 4 s): < 12 s. Posts: 5 s
# deadline each, in parallel. Removing gone subscribers (optional: the TTL covers them) only
# starts within CLEANUP_BUDGET_S. Worst case: 10 + 12 = 22 s.
CLEANUP_BUDGET_S = 10.0

OutboundFactory = Callable[[str], Outbound]
"""The `Outbound` for a Management API endpoint (``https://{domainName}/{stage}``)."""


class BadEvent(ValueError):
    """The event lacks a field every API Gateway WebSocket event carries."""


def write_stdout(line: str) -> None:
    """The default log sink: stdout, as Lambda collects it (looked up per line, so a host or a
    test that replaces ``sys.stdout`` gets the lines)."""
    sys.stdout.write(line)


def message_text(event: Event) -> str | None:
    """The frame's text, base64-decoded when the gateway marked it binary; None when it is not
    UTF-8."""
    body = event.get("body")
    if not isinstance(body, str):
        raise BadEvent("body")
    if not event.get("isBase64Encoded"):
        return body
    try:
        return base64.b64decode(body, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def authorized_role(request_context: Mapping[str, Any]) -> tuple[str | None, bool]:
    """The connection's role and whether it is enforced, from the authorizer's context
    (``requestContext.authorizer``: ``role``, ``mode``). No authorizer: (None, True), every
    command allowed. A role without a mode is enforced: only the authorizer's permissive mode
    says ``mode: permissive``."""
    authorizer = request_context.get("authorizer")
    if not isinstance(authorizer, dict):
        return None, True
    role = authorizer.get("role")
    if not isinstance(role, str):
        return None, True
    return role, authorizer.get("mode") != PERMISSIVE


def _message(relay: Relay, connection_id: str, event: Event) -> Outcome:
    text = message_text(event)
    if text is None:
        return relay.receive_binary(connection_id)
    return relay.receive(connection_id, text)


class RelayFunctions:
    """``onconnect``, ``ondisconnect`` and ``sendmessage`` over one store and outbound factory."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        outbound_for: OutboundFactory,
        clock: Callable[[], float] = time.time,
        log: Callable[[str], object] = write_stdout,
    ) -> None:
        self.settings = settings.check()  # a bad combination fails the init, not a request
        self.store = store
        self.outbound_for = outbound_for
        self.clock = clock
        self.log = log

    def onconnect(self, event: Event, context: LambdaContext | None) -> ProxyResult:
        """$connect: accept the connection (nothing is stored)."""
        return self._invoke("$connect", event, context, lambda relay, cid, _: relay.connect(cid))

    def ondisconnect(self, event: Event, context: LambdaContext | None) -> ProxyResult:
        """$disconnect: best effort; nothing depends on it."""
        return self._invoke("$disconnect", event, context, lambda relay, cid, _: relay.disconnect(cid))

    def sendmessage(self, event: Event, context: LambdaContext | None) -> ProxyResult:
        """$default (every frame the clients send): subscribe, unsubscribe, ack, ping, publish."""
        return self._invoke("$default", event, context, _message)

    def endpoint(self, request_context: Mapping[str, Any]) -> str:
        """The Management API endpoint to post to: the configured one, else the event's own."""
        if self.settings.management_endpoint is not None:
            return self.settings.management_endpoint
        domain, stage = request_context.get("domainName"), request_context.get("stage")
        if not domain or not stage:
            raise BadEvent("requestContext.domainName and requestContext.stage")
        return f"https://{domain}/{stage}"

    def _invoke(
        self,
        route: str,
        event: Event,
        context: LambdaContext | None,
        action: Callable[[Relay, str, Event], Outcome],
    ) -> ProxyResult:
        started = time.perf_counter()
        request_context = event.get("requestContext") if isinstance(event, dict) else None
        if not isinstance(request_context, dict):
            request_context = {}
        connection_id = request_context.get("connectionId")
        request_id = str(getattr(context, "aws_request_id", None) or request_context.get("requestId") or "-")
        route = str(request_context.get("routeKey") or route)
        role, enforce_roles = authorized_role(request_context)

        def log(outcome: Outcome, level: str = "INFO", error: str | None = None) -> None:
            self.log(
                invocation_line(
                    namespace=self.settings.metrics_namespace,
                    service=self.settings.service,
                    request_id=request_id,
                    route=route,
                    connection_id=connection_id if isinstance(connection_id, str) else None,
                    outcome=outcome,
                    duration_ms=(time.perf_counter() - started) * 1000.0,
                    timestamp_ms=int(time.time() * 1000),
                    level=level,
                    error=error,
                    role=role,
                )
            )

        try:
            if not isinstance(connection_id, str) or not connection_id:
                raise BadEvent("requestContext.connectionId")
            outbound = self.outbound_for(self.endpoint(request_context))
            deadline = self.clock() + CLEANUP_BUDGET_S
            relay = Relay(
                self.store, outbound, self.clock, deadline, self.settings.publisher_ack, role, enforce_roles
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
