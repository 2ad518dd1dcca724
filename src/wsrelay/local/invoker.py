"""Invoking a route's handler for the gateway: the route -> handler table, the runtime call, and
the accounting of every invocation (per-route stats, cold starts, the console line)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from wsrelay.local.console import Console
from wsrelay.local.runtimes.base import Event, Failure, Invocation, Runtime
from wsrelay.local.settings import GatewaySettings
from wsrelay.local.stats import GatewayStats


class Invoker:
    """Runs routes on a runtime and counts what happened."""

    def __init__(
        self, settings: GatewaySettings, runtime: Runtime, stats: GatewayStats, console: Console | None
    ) -> None:
        self.routes = settings.routes
        self.default = settings.routes["$default"]
        self.runtime = runtime
        self.stats = stats
        self.console = console
        # With --dashboard: told of every accounted invocation (wsrelay.local.dashboard.observed).
        self.observer: Callable[[str, Event, Invocation], None] | None = None

    def invoke(self, route: str, event: Event) -> Invocation | Awaitable[Invocation]:
        """Run the route's handler. Returns the accounted `Invocation` when the runtime ran it
        inline, else an awaitable of it."""
        invocation = self.runtime.invoke(self.routes.get(route) or self.default, event)
        if isinstance(invocation, Invocation):
            return self.account(route, event, invocation)
        return self._finish(route, event, invocation)

    async def invoke_async(self, route: str, event: Event) -> Invocation:
        """`invoke`, awaited whatever the runtime did."""
        invocation = self.invoke(route, event)
        return invocation if isinstance(invocation, Invocation) else await invocation

    async def _finish(self, route: str, event: Event, pending: Awaitable[Invocation]) -> Invocation:
        return self.account(route, event, await pending)

    def account(self, route: str, event: Event, invocation: Invocation) -> Invocation:
        """Count one invocation and queue its console line."""
        stats = self.stats.routes[route]
        stats.invocations += 1
        stats.latencies_ms.append(invocation.duration_ms)
        if invocation.failure is Failure.THROTTLED:
            stats.throttles += 1
        elif invocation.failure is Failure.TIMEOUT:
            stats.timeouts += 1
            stats.errors += 1
        elif invocation.failure is not None or (invocation.status_code or 200) >= 500:
            stats.errors += 1
        if invocation.cold_start:
            self.stats.cold_starts += 1
        if self.observer is not None:
            self.observer(route, event, invocation)
        if self.console is not None:
            self.console.invocation(
                route,
                event["requestContext"]["connectionId"],
                invocation.failure.value if invocation.failure else str(invocation.status_code),
                invocation.duration_ms,
                invocation.cold_start,
                invocation.detail,
            )
        return invocation
