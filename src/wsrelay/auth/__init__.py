"""The ``$connect`` authorizer (a Lambda REQUEST authorizer) and wsrelay's tokens.

The Lambda face is `handler` (deployed as ``wsrelay.auth.handler``; the local stack reaches it
as ``wsrelay.handlers.authorize``, an alias that imports this package only when used). It
builds no relay, and nothing on the relay handlers' import path imports this package or PyJWT,
so their init cost is unchanged (tests/test_auth_import_path.py).

- `wsrelay.auth.tokens`: issue and verify HS256 JWTs (``role``, ``exp``, ``sub``);
- `wsrelay.auth.settings`: `AuthSettings` from the environment (``WSRELAY_AUTH_*``);
- `wsrelay.auth.secrets`: where the secrets come from (a file, or Secrets Manager's
  ``AWSCURRENT`` and ``AWSPREVIOUS``, cached per process for a short TTL);
- `wsrelay.auth.authorizer`: `Authorizer`, the event -> policy response.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from wsrelay.auth.authorizer import Authorizer
from wsrelay.auth.settings import AuthSettings
from wsrelay.config import Settings

__all__ = ["AuthSettings", "Authorizer", "handler"]


@functools.cache
def _authorizer() -> Authorizer:
    """Built on the first call (not at import: `wsrelay token` imports this package without
    the authorizer's environment); a bad variable fails that call naming it."""
    relay = Settings.from_env(os.environ)  # only the metrics namespace and service dimension
    return Authorizer(
        AuthSettings.from_env(os.environ), namespace=relay.metrics_namespace, service=relay.service
    )


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point: `Authorizer` over `AuthSettings.from_env`."""
    return _authorizer()(event, context)
