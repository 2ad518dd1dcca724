"""Settings of the local gateway (`wsrelay serve`), with AWS's quotas as defaults.

Validated once at start; `SettingsError` carries a message that names the flag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

RUNTIMES = ("inprocess", "lmi", "ondemand")
STORES = ("sqlite", "dynamodb")
HANDLERS = {
    "$connect": "wsrelay.handlers.onconnect",
    "$disconnect": "wsrelay.handlers.ondisconnect",
    "$default": "wsrelay.handlers.sendmessage",
}

# API Gateway WebSocket quotas (aws-facts.md).
FRAME_LIMIT = 32 * 1024
MESSAGE_LIMIT = 128 * 1024
IDLE_TIMEOUT_S = 600.0
MAX_DURATION_S = 7200.0
INTEGRATION_TIMEOUT_S = 29.0


class SettingsError(ValueError):
    """A flag has a value the gateway cannot run with."""


@dataclass
class GatewaySettings:
    """Everything `wsrelay serve` is configured with."""

    host: str = "127.0.0.1"
    port: int = 3001
    stage: str = "local"
    runtime: str = "inprocess"
    store: str = "sqlite"
    state_dir: Path = Path(".wsrelay")
    dynamodb_endpoint: str | None = None
    create_table: bool = False
    table: str = "events-connections"
    result_ttl_seconds: int = 600
    concurrency: int | None = None  # inprocess: threads (16); lmi: processes per function (4)
    cold_start_ms: float = 250.0
    max_concurrency: int = 0  # ondemand: 0 = unlimited, else throttle above it
    keep_warm_s: float = 300.0
    route_selection_expression: str = "$request.body.action"
    routes: dict[str, str] = field(default_factory=lambda: dict(HANDLERS))
    frame_limit: int = FRAME_LIMIT
    message_limit: int = MESSAGE_LIMIT
    idle_timeout_s: float = IDLE_TIMEOUT_S
    max_duration_s: float = MAX_DURATION_S
    integration_timeout_s: float = INTEGRATION_TIMEOUT_S
    drop_disconnect: float = 0.0
    post_410: float = 0.0
    post_429: float = 0.0
    post_latency_ms: float = 0.0
    quiet: bool = False
    legacy_subscriptions: bool = False
    log_max_bytes: int = 64 * 2**20  # handlers.log rotates to handlers.log.1 past this; 0 = never

    def validate(self) -> GatewaySettings:
        """Raise `SettingsError` naming the first bad flag; return self."""
        if self.runtime not in RUNTIMES:
            raise SettingsError(f"--runtime must be one of {', '.join(RUNTIMES)}, got {self.runtime!r}")
        if self.store not in STORES:
            raise SettingsError(f"--store must be one of {', '.join(STORES)}, got {self.store!r}")
        if not 0 <= self.port <= 65535:
            raise SettingsError(f"--port must be 0..65535, got {self.port}")
        if not self.stage or "/" in self.stage:
            raise SettingsError(f"--stage must be a non-empty name without '/', got {self.stage!r}")
        if self.store == "dynamodb" and not self.dynamodb_endpoint:
            raise SettingsError("--store dynamodb needs --dynamodb-endpoint URL")
        if self.dynamodb_endpoint and not self.dynamodb_endpoint.startswith(("http://", "https://")):
            raise SettingsError(f"--dynamodb-endpoint must be an http(s) URL, got {self.dynamodb_endpoint!r}")
        for flag, value in (
            ("--drop-disconnect", self.drop_disconnect),
            ("--post-410", self.post_410),
            ("--post-429", self.post_429),
        ):
            if not 0.0 <= value <= 1.0:
                raise SettingsError(f"{flag} must be a fraction between 0 and 1, got {value}")
        for flag, number in (
            ("--post-latency-ms", self.post_latency_ms),
            ("--cold-start-ms", self.cold_start_ms),
            ("--max-concurrency", self.max_concurrency),
            ("--log-max-mb", self.log_max_bytes),
        ):
            if number < 0:
                raise SettingsError(f"{flag} must not be negative, got {number}")
        for flag, positive in (
            ("--frame-limit", self.frame_limit),
            ("--message-limit", self.message_limit),
            ("--idle-timeout", self.idle_timeout_s),
            ("--max-duration", self.max_duration_s),
            ("--integration-timeout", self.integration_timeout_s),
            ("--result-ttl", self.result_ttl_seconds),
            ("--keep-warm", self.keep_warm_s),
        ):
            if positive <= 0:
                raise SettingsError(f"{flag} must be positive, got {positive}")
        if self.concurrency is not None and not 1 <= self.concurrency <= 256:
            raise SettingsError(f"--concurrency must be 1..256, got {self.concurrency}")
        if not self.route_selection_expression.startswith("$request.body."):
            raise SettingsError(
                "--route-selection-expression must look like $request.body.FIELD, "
                f"got {self.route_selection_expression!r}"
            )
        for key, target in self.routes.items():
            if "." not in target:
                raise SettingsError(f"--route {key}={target}: the handler must be module.function")
        if "$default" not in self.routes:
            raise SettingsError("a $default route is required")
        return self
