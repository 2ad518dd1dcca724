"""A handler for `wsrelay serve --route '$default=dict_relay.sendmessage'`: the bare relay's
logic (a dict in process memory, no store, no logs) behind the local gateway, so the benchmark
can show what the emulator itself costs apart from wsrelay's handlers. Benchmark use only: it
keeps state in memory, which the real handlers must never do.

It posts through ``context.outbound``, the gateway's connections, which the in-process runtime
gives every custom route handler (`wsrelay.local.runtimes.inprocess.runtime.InProcessContext`).
"""

from __future__ import annotations

import json
from typing import Any

subscribers: dict[str, set[str]] = {}
publisher: dict[str, str] = {}


def sendmessage(event: dict[str, Any], context: Any) -> dict[str, int]:
    outbound = context.outbound
    connection_id = event["requestContext"]["connectionId"]
    text = event["body"]
    if text.startswith("subscribe: "):
        subscribers.setdefault(text[11:], set()).add(connection_id)
    elif text.startswith("unsubscribe: "):
        subscribers.get(text[13:], set()).discard(connection_id)
    elif text.startswith("ack: "):
        guid = text[5:]
        sender = publisher.pop(guid, None)
        if sender is not None:
            outbound.post([sender], json.dumps({"type": "ack", "guid": guid}))
    else:
        guid = json.loads(text)["guid"]
        publisher[guid] = connection_id
        outbound.post(list(subscribers.get(guid, ())), text)
    return {"statusCode": 200}
