"""What the gateway needs from a runtime (the `Runtime` protocol) and the types every runtime
shares: how an invocation ended (`Invocation`, `Failure`) and the context object handlers get
(`LocalContext`, which satisfies `wsrelay.lambda_types.LambdaContext`).

Runtimes: `wsrelay.local.runtimes.inprocess.runtime.InProcessRuntime` (the handlers in the gateway's process)
and `wsrelay.local.runtimes.process.runtime.ProcessRuntime` (worker processes with the ``lmi`` or ``ondemand``
policy).
"""

from __future__ import annotations

import enum
import importlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from wsrelay.lambda_types import Event

Handler = Callable[[Event, Any], Any]


class Failure(enum.Enum):
    """Why an invocation returned no result (API Gateway's view of it)."""

    ERROR = "error"  # the handler raised, or its environment failed
    THROTTLED = "throttled"  # no environment could take it (a concurrency limit)
    TIMEOUT = "timeout"  # it ran past the integration timeout


@dataclass(slots=True)
class Invocation:
    """How one invocation ended. `status_code` is None when it did not return; `result` is what
    the handler returned (the gateway reads the authorizer's policy from it)."""

    status_code: int | None
    failure: Failure | None = None
    detail: str | None = None
    cold_start: bool = False
    duration_ms: float = 0.0
    result: Any = None


class Runtime(Protocol):
    """Runs the route handlers for the gateway."""

    async def start(self) -> None:
        """Start what the handlers need (environments, clients, background chores)."""
        ...

    def invoke(self, handler: str, event: Event) -> Invocation | Awaitable[Invocation]:
        """Run `handler` (``module.function``) on `event`. A runtime that ran it to the end on
        the calling thread returns the `Invocation`; one that runs it elsewhere returns an
        awaitable of it (the gateway then finishes the message on a task)."""
        ...

    def describe(self) -> dict[str, Any] | None:
        """Execution environments per function, for ``/_wsrelay/stats`` (None for a runtime
        without environments)."""
        ...

    async def stop(self) -> None:
        """Stop the environments and write out what is pending."""
        ...


class LocalContext:
    """The local stack's Lambda context: what `wsrelay.lambda_types.LambdaContext` names, and the
    rest of Lambda's fields handlers commonly read."""

    def __init__(self, request_id: str, function_name: str, timeout_s: float) -> None:
        self.aws_request_id = request_id
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = 2048
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def resolve_handler(path: str) -> Handler:
    """Import ``module.function`` (the module's import is the function's init)."""
    module_name, _, attribute = path.rpartition(".")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


def function_name(handler: str) -> str:
    """The local function name for a handler path, e.g. ``wsrelay-local-sendmessage``."""
    return "wsrelay-local-" + handler.rpartition(".")[2]


def elapsed_ms(started: float) -> float:
    """Milliseconds since `started` (a ``time.perf_counter()`` reading)."""
    return (time.perf_counter() - started) * 1000.0


def status_of(result: Any) -> int:
    """A Lambda proxy result's status (a result without one counts as 200, as in AWS)."""
    if isinstance(result, dict) and isinstance(result.get("statusCode"), int):
        return int(result["statusCode"])
    return 200


def raised(error: BaseException, started: float, cold_start: bool = False) -> Invocation:
    """The invocation of a handler that raised `error` (or whose environment did)."""
    detail = f"{type(error).__name__}: {error}"
    return Invocation(None, Failure.ERROR, detail, cold_start, elapsed_ms(started))
