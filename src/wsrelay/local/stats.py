"""Counters and latency percentiles behind ``GET /_wsrelay/stats`` and the console lines."""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any

from wsrelay.percentile import percentiles

_RESERVOIR = 10_000


@dataclass
class RouteStats:
    """Invocations of one route."""

    invocations: int = 0
    errors: int = 0
    throttles: int = 0
    timeouts: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_RESERVOIR))

    def summary(self) -> dict[str, Any]:
        p50, p90, p99, top = percentiles(self.latencies_ms, (50, 90, 99, 100))
        return {
            "invocations": self.invocations,
            "errors": self.errors,
            "throttles": self.throttles,
            "timeouts": self.timeouts,
            "latency_ms": {
                "p50": round(p50, 3),
                "p90": round(p90, 3),
                "p99": round(p99, 3),
                "max": round(top, 3),
            },
        }


@dataclass
class GatewayStats:
    """Everything the gateway counts."""

    connections_opened: int = 0
    connections_rejected: int = 0
    cold_starts: int = 0
    posts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    closes: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    routes: dict[str, RouteStats] = field(default_factory=lambda: defaultdict(RouteStats))

    def snapshot(self, open_connections: int, runtime: str) -> dict[str, Any]:
        """The JSON document of ``GET /_wsrelay/stats``."""
        routes = {key: value.summary() for key, value in sorted(self.routes.items())}
        return {
            "runtime": runtime,
            "connections": {
                "open": open_connections,
                "opened": self.connections_opened,
                "rejected": self.connections_rejected,
                "closes_by_code": {str(k): v for k, v in sorted(self.closes.items())},
            },
            "routes": routes,
            "invocations": sum(r["invocations"] for r in routes.values()),
            "errors": sum(r["errors"] for r in routes.values()),
            "throttles": sum(r["throttles"] for r in routes.values()),
            "cold_starts": self.cold_starts,
            "posts": dict(self.posts),
        }
