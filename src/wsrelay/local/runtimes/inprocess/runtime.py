"""The ``inprocess`` runtime: the relay's functions inside the gateway process.

It builds its own `RelayFunctions` (its configuration from the flags; nothing written to
``os.environ``): its own store (an `OwnedSqliteStore` written behind, or DynamoDB at
``--dynamodb-endpoint``), an outbound wired straight to the gateway's connections (no HTTP
hop), and a log sink that queues the lines for ``handlers.log``. A route whose handler is one of
``wsrelay.handlers.*`` runs on that instance (``authorize`` on an `Authorizer` built from
``--auth-*``); any other ``module.function`` is imported and gets
an `InProcessContext`, whose ``outbound`` posts to the gateway's connections.

With the SQLite store and no injected post latency the functions run inline on the event loop:
a thread pool would only add two thread hops per invocation and a GIL convoy. Otherwise
(DynamoDB, ``--post-latency-ms``) they run on a pool of ``--concurrency`` threads (16).
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wsrelay.functions import RelayFunctions
from wsrelay.local.handler_log import HandlerLog
from wsrelay.local.housekeeping import WriteBehind
from wsrelay.local.runtimes.base import (
    Event,
    Failure,
    Handler,
    Invocation,
    LocalContext,
    elapsed_ms,
    function_name,
    resolve_handler,
    status_of,
)
from wsrelay.local.runtimes.inprocess.store import OwnedSqliteStore
from wsrelay.local.settings import GatewaySettings
from wsrelay.ports import Outbound, Store
from wsrelay.wiring import local_session, shared_store

LAMBDA_FACE = "wsrelay.handlers"


class InProcessContext(LocalContext):
    """A Lambda context that also carries the gateway's connections as an `Outbound`, for custom
    route handlers that post without a Management API client."""

    def __init__(self, request_id: str, function_name: str, timeout_s: float, outbound: Outbound) -> None:
        super().__init__(request_id, function_name, timeout_s)
        self.outbound = outbound


class InProcessRuntime:
    """The relay's functions in the gateway process, posting straight to its connections."""

    def __init__(
        self, settings: GatewaySettings, management_endpoint: str, outbound: Outbound, inline: bool
    ) -> None:
        self.settings = settings
        self.relay_settings = settings.relay_settings(management_endpoint)
        self.outbound = outbound
        self.inline = inline
        self.pool = ThreadPoolExecutor(settings.concurrency or 16, thread_name_prefix="wsrelay-fn")
        self._handlers: dict[str, Handler] = {}
        self._owned: OwnedSqliteStore | None = None
        self._writes: WriteBehind | None = None
        self._flusher: asyncio.Task[None] | None = None

    def _store(self) -> Store:
        if self.settings.store == "sqlite":
            self._owned = OwnedSqliteStore(self.relay_settings.sqlite_path, self.settings.result_ttl_s)
            return self._owned
        return shared_store(self.relay_settings, local_session())

    async def start(self) -> None:
        store = self._store()
        log = HandlerLog(self.settings.state_dir / "handlers.log", self.settings.log_max_bytes)
        self._writes = WriteBehind(log, self._owned.flush if self._owned is not None else None)
        functions = RelayFunctions(
            self.relay_settings, store, lambda _: self.outbound, time.time, self._writes.queue
        )
        own: dict[str, Handler] = {
            f"{LAMBDA_FACE}.onconnect": functions.onconnect,
            f"{LAMBDA_FACE}.ondisconnect": functions.ondisconnect,
            f"{LAMBDA_FACE}.sendmessage": functions.sendmessage,
        }
        auth = self.settings.auth_settings()
        if auth is not None:  # its own authorizer, from the flags (nothing read from os.environ)
            from wsrelay.auth import Authorizer

            own[f"{LAMBDA_FACE}.authorize"] = Authorizer(auth, self._writes.queue)
        for path in set(self.settings.routes.values()):
            self._handlers[path] = own.get(path) or resolve_handler(path)
        self._flusher = asyncio.create_task(self._writes.run())

    def _context(self, handler: str, event: Event) -> InProcessContext:
        request_id = event["requestContext"]["requestId"]
        timeout_s = self.settings.integration_timeout_s
        return InProcessContext(request_id, function_name(handler), timeout_s, self.outbound)

    def invoke(self, handler: str, event: Event) -> Invocation | Awaitable[Invocation]:
        if self.inline:
            return self._invoke_here(handler, event)
        return self._invoke_on_pool(handler, event)

    def _invoke_here(self, handler: str, event: Event) -> Invocation:
        context = self._context(handler, event)
        started = time.perf_counter()
        try:
            result = self._handlers[handler](event, context)
        except Exception as error:
            return Invocation(
                None, Failure.ERROR, f"{type(error).__name__}: {error}", False, elapsed_ms(started)
            )
        elapsed = elapsed_ms(started)
        if elapsed > self.settings.integration_timeout_s * 1000:
            # Nothing can stop a call on the loop's thread; API Gateway does not stop the
            # function either: it answers the client with a timeout and the function finishes.
            return Invocation(None, Failure.TIMEOUT, "integration timeout", False, elapsed)
        return Invocation(status_of(result), None, None, False, elapsed, result)

    async def _invoke_on_pool(self, handler: str, event: Event) -> Invocation:
        context = self._context(handler, event)
        started = time.perf_counter()
        future = asyncio.get_running_loop().run_in_executor(
            self.pool, self._handlers[handler], event, context
        )
        try:
            result = await asyncio.wait_for(future, self.settings.integration_timeout_s)
        except TimeoutError:
            return Invocation(None, Failure.TIMEOUT, "integration timeout", False, elapsed_ms(started))
        except Exception as error:
            return Invocation(
                None, Failure.ERROR, f"{type(error).__name__}: {error}", False, elapsed_ms(started)
            )
        return Invocation(status_of(result), None, None, False, elapsed_ms(started), result)

    def describe(self) -> dict[str, Any] | None:
        return None  # no execution environments: the functions run in the gateway

    async def stop(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)
        if self._flusher is not None:
            self._flusher.cancel()
        if self._writes is not None:
            try:
                self._writes.flush()
            except Exception as error:
                message = f"{type(error).__name__}: {error}"
                print(f"wsrelay serve: warning: last flush failed: {message}", file=sys.stderr)
            self._writes.log.close()
        if self._owned is not None:
            try:
                self._owned.close()
            except Exception as error:
                print(f"wsrelay serve: warning: closing the store failed: {error}", file=sys.stderr)
