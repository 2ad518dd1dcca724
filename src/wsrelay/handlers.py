"""The three Lambda entry points: ``onconnect``, ``ondisconnect``, ``sendmessage``.

The Lambda face of `wsrelay.functions.RelayFunctions`: importing this module is the Lambda init.
It reads and validates the environment (a bad variable fails the init with a message naming
it) and builds the store's and the Management API's clients once per process (on Lambda Managed
Instances every concurrent request is its own process; nothing correct lives in this module's
memory, it only holds the clients). The local stack's ``lmi`` and ``ondemand`` worker processes
import it the same way; its in-process runtime builds its own `RelayFunctions` instead.
"""

from __future__ import annotations

import os

from wsrelay.wiring import from_environment

app = from_environment(os.environ)

onconnect = app.onconnect
ondisconnect = app.ondisconnect
sendmessage = app.sendmessage
