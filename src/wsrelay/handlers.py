"""The Lambda entry points: ``onconnect``, ``ondisconnect``, ``sendmessage``, and ``authorize``.

The Lambda face of `wsrelay.functions.RelayFunctions`: importing this module is the Lambda init.
It reads and validates the environment (a bad variable fails the init with a message naming
it) and builds the store's and the Management API's clients once per process (on Lambda Managed
Instances every concurrent request is its own process; nothing correct lives in this module's
memory, it only holds the clients). The local stack's ``lmi`` and ``ondemand`` worker processes
import it the same way; its in-process runtime builds its own `RelayFunctions` instead.

``authorize`` is `wsrelay.auth.handler`, the ``$connect`` authorizer, resolved on first access
(PEP 562's module ``__getattr__``): importing this module never imports the authorizer or
PyJWT, so the relay functions' init costs what it did before authorization existed.
"""

from __future__ import annotations

import os
from typing import Any

from wsrelay.wiring import from_environment

app = from_environment(os.environ)

onconnect = app.onconnect
ondisconnect = app.ondisconnect
sendmessage = app.sendmessage


def __getattr__(name: str) -> Any:
    """``authorize``: the authorizer's handler, imported when first asked for."""
    if name == "authorize":
        from wsrelay.auth import handler

        return handler
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
