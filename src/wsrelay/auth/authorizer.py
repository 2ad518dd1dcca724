"""The ``$connect`` REQUEST authorizer: an API Gateway authorizer event in, API Gateway's
documented authorizer response out (docs/aws-facts.md, "Authorization").

- identity source: the query string parameter ``token`` (``route.request.querystring.token``).
  API Gateway answers 401 itself, without invoking the authorizer, when it is missing; an
  invocation without it (a test call) is denied;
- a valid token: ``Allow`` for ``execute-api:Invoke`` on the event's ``methodArn`` (the
  ``$connect`` route), with ``role``, ``mode`` and ``sub`` in the context, which API Gateway
  adds to every later event of the connection as ``requestContext.authorizer``;
- any other: ``Deny`` (API Gateway answers 403), or in permissive mode ``Allow`` with
  ``role: both`` and ``refused: <reason>``, counted as `AUTHORIZER_WOULD_DENY`;
- secrets that cannot be read (Secrets Manager unreachable, access denied, no ``AWSCURRENT``):
  ``Deny`` in both modes, outcome ``secret_unavailable`` at level ``ERROR`` with the reason, counted
  as `AUTHORIZER_SECRET_UNAVAILABLE`. Permissive relaxes how tokens are judged, not whether the
  authorizer works: an authorizer that cannot verify anything must show at once (the rollout's
  smoke check fails), not let everyone in unnoticed.

Each invocation writes one JSON log line with its EMF metrics (`wsrelay.telemetry`). It builds
no relay: no store, no Management API client (boto3 only for the Secrets Manager secret).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from wsrelay.auth.secrets import Secrets, SecretUnavailable
from wsrelay.auth.settings import AuthSettings
from wsrelay.auth.tokens import TokenRefused, verify
from wsrelay.relay import Outcome
from wsrelay.roles import BOTH, PERMISSIVE
from wsrelay.telemetry import invocation_line

IDENTITY_SOURCE = "token"  # route.request.querystring.token
POLICY_VERSION = "2012-10-17"
INVOKE = "execute-api:Invoke"
# Metric names (CloudWatch EMF, dimension set [service]); docs/operations.md explains each.
AUTHORIZER_ALLOWED = "AuthorizerAllowed"
AUTHORIZER_DENIED = "AuthorizerDenied"
AUTHORIZER_WOULD_DENY = "AuthorizerWouldDeny"
AUTHORIZER_SECRET_UNAVAILABLE = "AuthorizerSecretUnavailable"


def policy(
    principal_id: str, effect: str, resource: str, context: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An authorizer response: `effect` (``Allow`` or ``Deny``) of ``execute-api:Invoke`` on
    `resource`, with `context` (string values: API Gateway passes them on stringified anyway)."""
    response: dict[str, Any] = {
        "principalId": principal_id,
        "policyDocument": {
            "Version": POLICY_VERSION,
            "Statement": [{"Action": INVOKE, "Effect": effect, "Resource": resource}],
        },
    }
    if context:
        response["context"] = dict(context)
    return response


def _write_stdout(line: str) -> None:
    sys.stdout.write(line)


class Authorizer:
    """Verifies a connection's token against `settings`; callable as a Lambda handler.

    `secrets` defaults to `AuthSettings.secret_source` (a seam for tests)."""

    def __init__(
        self,
        settings: AuthSettings,
        log: Callable[[str], object] = _write_stdout,
        namespace: str = "wsrelay",
        service: str = "wsrelay",
        secrets: Secrets | None = None,
    ) -> None:
        self.settings = settings
        self.log = log
        self.namespace = namespace
        self.service = service
        self.secrets = secrets if secrets is not None else settings.secret_source()

    def __call__(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        started = time.perf_counter()
        request_context = event.get("requestContext") or {}
        query = event.get("queryStringParameters") or {}
        token = query.get(IDENTITY_SOURCE) if isinstance(query, dict) else None
        resource = str(event.get("methodArn") or "*")
        mode = self.settings.mode
        level = "INFO"
        try:
            if not token:
                raise TokenRefused(f"no {IDENTITY_SOURCE} query string parameter")
            claims = verify(token, self.secrets(), self.settings.leeway_seconds)
        except SecretUnavailable as unavailable:
            outcome = Outcome("secret_unavailable", notes=[str(unavailable)])
            outcome.counts[AUTHORIZER_DENIED] += 1
            outcome.counts[AUTHORIZER_SECRET_UNAVAILABLE] += 1
            response = policy("anonymous", "Deny", resource)
            level = "ERROR"
        except TokenRefused as refused:
            reason = str(refused)
            if mode == PERMISSIVE and token:
                outcome = Outcome("allowed_unverified", notes=[f"would deny: {reason}"])
                outcome.counts[AUTHORIZER_WOULD_DENY] += 1
                response = policy(
                    "unverified", "Allow", resource, {"role": BOTH, "mode": mode, "refused": reason}
                )
            else:
                outcome = Outcome("denied", notes=[reason])
                outcome.counts[AUTHORIZER_DENIED] += 1
                response = policy("anonymous", "Deny", resource)
        else:
            granted = {"role": claims.role, "mode": mode}
            if claims.subject is not None:
                granted["sub"] = claims.subject
            outcome = Outcome("allowed")
            outcome.counts[AUTHORIZER_ALLOWED] += 1
            response = policy(claims.subject or claims.role, "Allow", resource, granted)
        connection_id = request_context.get("connectionId") if isinstance(request_context, dict) else None
        request_id = getattr(context, "aws_request_id", None) or (
            request_context.get("requestId") if isinstance(request_context, dict) else None
        )
        self.log(
            invocation_line(
                namespace=self.namespace,
                service=self.service,
                request_id=str(request_id or "-"),
                route="$connect:authorizer",
                connection_id=connection_id if isinstance(connection_id, str) else None,
                outcome=outcome,
                duration_ms=(time.perf_counter() - started) * 1000.0,
                timestamp_ms=int(time.time() * 1000),
                level=level if outcome.outcome == "allowed" or level != "INFO" else "WARN",
                role=response.get("context", {}).get("role"),
            )
        )
        return response
