"""One local execution environment: ``python -m wsrelay.local.runtimes.process.child module.function``.

Runs the handler module's init once (its import), reports ``{"ready": pid}``, then serves one
request at a time: a JSON line ``{"event": ..., "timeout": s}`` on stdin, a JSON line
``{"result": ...}`` or ``{"error": type, "message": ...}`` on the original stdout. Whatever the
handler prints (its JSON log lines) goes to stderr, which the gateway appends to its log file.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

from wsrelay.local.runtimes.base import LocalContext, function_name, resolve_handler


def main() -> int:
    """Serve requests until stdin closes."""
    handler = sys.argv[1]
    channel = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # the handler's stdout (its log lines) goes to the log file
    started = time.perf_counter()
    try:
        function = resolve_handler(handler)
    except Exception as error:
        channel.write(json.dumps({"initError": f"{type(error).__name__}: {error}"}) + "\n")
        traceback.print_exc()
        return 1
    init_ms = (time.perf_counter() - started) * 1000
    channel.write(json.dumps({"ready": os.getpid(), "initMs": round(init_ms, 1)}) + "\n")
    for line in sys.stdin.buffer:
        request = json.loads(line)
        event = request["event"]
        request_id = event.get("requestContext", {}).get("requestId", "-")
        context = LocalContext(request_id, function_name(handler), float(request["timeout"]))
        try:
            reply = {"result": function(event, context)}
        except Exception as error:
            traceback.print_exc()
            reply = {"error": type(error).__name__, "message": str(error)}
        channel.write(json.dumps(reply, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
