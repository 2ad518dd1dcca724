"""The local gateway's ``$connect`` authorization, as API Gateway runs a Lambda REQUEST
authorizer with the identity source ``route.request.querystring.token`` (docs/aws-facts.md,
"Authorization"):

- no ``token`` query string parameter (or an empty one): 401, the authorizer is not invoked;
- the authorizer failed (raised, timed out, returned no policy, or a context value that is an
  object or a list): 500;
- its policy does not allow ``execute-api:Invoke`` on the ``$connect`` ARN, or denies it: 403;
- allowed: its ``principalId`` and context (values stringified) become the connection's
  ``requestContext.authorizer`` on ``$connect``, every message and ``$disconnect``.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from wsrelay.local.events import Api, ConnectionInfo, authorizer_event
from wsrelay.local.invoker import Invoker
from wsrelay.local.runtimes.base import Invocation
from wsrelay.local.settings import AUTHORIZER

IDENTITY_SOURCE = "token"
UNAUTHORIZED, FORBIDDEN, ERROR = 401, 403, 500
_ACTIONS = ("execute-api:Invoke", "execute-api:*", "*")


def _stringified(value: Any) -> str | None:
    """A context value as API Gateway passes it on (``true``, ``1``), or None if not allowed."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def _matches(statement: dict[str, Any], arn: str) -> bool:
    actions = statement.get("Action")
    resources = statement.get("Resource")
    actions = [actions] if isinstance(actions, str) else actions or []
    resources = [resources] if isinstance(resources, str) else resources or []
    return any(a in _ACTIONS for a in actions) and any(
        isinstance(r, str) and fnmatch.fnmatchcase(arn, r) for r in resources
    )


def decide(invocation: Invocation, method_arn: str) -> tuple[int | None, dict[str, str | int] | None]:
    """(None, the connection's ``requestContext.authorizer``) when the authorizer allowed the
    connection, else (the HTTP status that refuses the upgrade, None)."""
    response = invocation.result
    if invocation.failure is not None or not isinstance(response, dict):
        return ERROR, None
    document = response.get("policyDocument")
    statements = document.get("Statement") if isinstance(document, dict) else None
    if not isinstance(statements, list) or "principalId" not in response:
        return ERROR, None
    matching = [s for s in statements if isinstance(s, dict) and _matches(s, method_arn)]
    if not any(s.get("Effect") == "Allow" for s in matching) or any(
        s.get("Effect") == "Deny" for s in matching
    ):
        return FORBIDDEN, None
    authorizer: dict[str, str | int] = {}
    for key, value in (response.get("context") or {}).items():
        text = _stringified(value)
        if text is None:
            return ERROR, None
        authorizer[str(key)] = text
    authorizer["principalId"] = str(response["principalId"])
    authorizer["integrationLatency"] = int(invocation.duration_ms)
    return None, authorizer


class GatewayAuthorizer:
    """Runs the authorizer for each upgrade that carries the identity source."""

    def __init__(self, api: Api, invoker: Invoker) -> None:
        self.api = api
        self.invoker = invoker

    async def __call__(self, info: ConnectionInfo) -> int | None:
        """None when the connection may go on to ``$connect`` (``info.authorizer`` set), else
        the status that refuses the upgrade."""
        if not info.query.get(IDENTITY_SOURCE):
            return UNAUTHORIZED
        event: Any = authorizer_event(self.api, info)
        status, authorizer = decide(await self.invoker.invoke_async(AUTHORIZER, event), event["methodArn"])
        info.authorizer = authorizer
        return status
