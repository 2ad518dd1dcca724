"""Settings of the local gateway (`wsrelay serve`), declared once: every field is a flag.

Each field of `GatewaySettings` carries its flag (name, help, check) in its metadata; the
command line (`add_arguments`, `from_arguments`), the defaults and the validation are all
derived from it. Defaults are API Gateway's quotas (docs/aws-facts.md). `SettingsError`
carries a one-line message that names the flag.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wsrelay.config import (
    MAX_RESULT_TTL_SECONDS,
    MIN_STORED_ACK_TTL_SECONDS,
    STORES,
    TABLE_NAME,
    Settings,
    aws_region,
)
from wsrelay.relay import PUBLISHER_ACK_MODES, STORED

RUNTIMES = ("inprocess", "lmi", "ondemand")
HANDLERS = {
    "$connect": "wsrelay.handlers.onconnect",
    "$disconnect": "wsrelay.handlers.ondisconnect",
    "$default": "wsrelay.handlers.sendmessage",
}

# API Gateway WebSocket quotas (docs/aws-facts.md).
FRAME_LIMIT = 32 * 1024
MESSAGE_LIMIT = 128 * 1024
IDLE_TIMEOUT_S = 600.0
MAX_DURATION_S = 7200.0
INTEGRATION_TIMEOUT_S = 29.0

Check = Callable[[Any], str | None]  # the problem with a value, or None


class SettingsError(ValueError):
    """A flag has a value the gateway cannot run with."""


class StartupError(SettingsError):
    """The gateway cannot start: the port, the state directory, DynamoDB or a handler's init.
    Reported like a bad flag: one line, exit status 2."""


def _between(low: float, high: float) -> Check:
    return lambda v: None if v is None or low <= v <= high else f"must be {low}..{high}"


def _table(v: str) -> str | None:
    return None if TABLE_NAME.fullmatch(v) else "must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)"


def _positive(v: float) -> str | None:
    return None if 0 < v < math.inf else "must be a positive finite number"


def _non_negative(v: float) -> str | None:
    return None if 0 <= v < math.inf else "must be a finite number, not negative"


def _fraction(v: float) -> str | None:
    return None if 0.0 <= v <= 1.0 else "must be a fraction between 0 and 1"


def _one_of(choices: tuple[str, ...]) -> Check:
    return lambda v: None if v in choices else f"must be one of {', '.join(choices)}"


def _http_url(v: str | None) -> str | None:
    return None if v is None or v.startswith(("http://", "https://")) else "must be an http(s) URL"


def _stage(v: str) -> str | None:
    return None if v and "/" not in v else "must be a non-empty name without '/'"


def _selection(v: str) -> str | None:
    return None if v.startswith("$request.body.") else "must look like $request.body.FIELD"


def routes_from_specs(specs: list[str]) -> dict[str, str]:
    """``--route KEY[=module.function]`` flags on top of the three default routes."""
    routes = dict(HANDLERS)
    for spec in specs:
        key, _, handler = spec.partition("=")
        if not key:
            raise SettingsError(f"--route {spec!r}: expected KEY or KEY=module.function")
        handler = handler or HANDLERS["$default"]
        if "." not in handler:
            raise SettingsError(f"--route {spec}: the handler must be module.function")
        routes[key] = handler
    return routes


def flag(
    default: Any,
    help: str,
    *,
    name: str | None = None,
    check: Check | None = None,
    metavar: str | None = None,
) -> Any:
    """A settings field that is also the ``--NAME`` flag (NAME defaults to the field's name)."""
    meta = {"name": name, "help": help, "check": check, "metavar": metavar}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class GatewaySettings:
    """Everything `wsrelay serve` is configured with; each field is its flag."""

    host: str = flag("127.0.0.1", "address to listen on")
    port: int = flag(3001, "0 picks a free port", check=_between(0, 65535))
    stage: str = flag("local", "the API's stage: the URL path", check=_stage)
    runtime: str = flag("inprocess", " | ".join(RUNTIMES), check=_one_of(RUNTIMES))
    store: str = flag("sqlite", " | ".join(STORES), check=_one_of(STORES))
    state_dir: Path = flag(Path(".wsrelay"), "SQLite file and handler logs")  # noqa: RUF009 - a field()
    dynamodb_endpoint: str | None = flag(None, "e.g. http://127.0.0.1:8000", check=_http_url)
    create_table: bool = flag(False, "create the table (with TTL) if absent")
    table: str = flag("events-connections", "the DynamoDB table (CONNECTIONS_TABLE)", check=_table)
    result_ttl_seconds: int = flag(
        600, "RESULT_TTL_SECONDS", name="result-ttl", check=_between(1, MAX_RESULT_TTL_SECONDS)
    )
    legacy_subscriptions: bool = flag(False, "WSRELAY_LEGACY_SUBSCRIPTIONS")
    publisher_ack: str = flag(
        STORED,
        "WSRELAY_PUBLISHER_ACK: who acks a publisher, the relay once the result is stored "
        "(stored, needs --result-ttl >= 120) or the subscriber (router)",
        check=_one_of(PUBLISHER_ACK_MODES),
        metavar="{" + ",".join(PUBLISHER_ACK_MODES) + "}",
    )
    concurrency: int | None = flag(
        None, "inprocess: handler threads (16); lmi: processes per function (4)", check=_between(1, 256)
    )
    cold_start_ms: float = flag(250.0, "ondemand: extra delay", check=_non_negative)
    max_concurrency: int = flag(
        0, "ondemand: environments per function before throttling (0 = unlimited)", check=_non_negative
    )
    keep_warm_s: float = flag(300.0, "ondemand: idle seconds kept", name="keep-warm", check=_positive)
    route_selection_expression: str = flag("$request.body.action", "route selection", check=_selection)
    routes: dict[str, str] = flag(  # noqa: RUF009 - a field() with a default_factory
        HANDLERS,
        "a custom route key (handler defaults to wsrelay.handlers.sendmessage); repeatable",
        name="route",
        metavar="KEY[=module.function]",
    )
    frame_limit: int = flag(FRAME_LIMIT, "bytes per frame", check=_positive)
    message_limit: int = flag(MESSAGE_LIMIT, "bytes per message", check=_positive)
    idle_timeout_s: float = flag(IDLE_TIMEOUT_S, "seconds", name="idle-timeout", check=_positive)
    max_duration_s: float = flag(MAX_DURATION_S, "seconds", name="max-duration", check=_positive)
    integration_timeout_s: float = flag(
        INTEGRATION_TIMEOUT_S, "seconds", name="integration-timeout", check=_positive
    )
    drop_disconnect: float = flag(
        0.0, "never run $disconnect for a fraction F of closes", check=_fraction, metavar="F"
    )
    post_410: float = flag(
        0.0, "answer a fraction F of posts with 410 and drop that connection", check=_fraction, metavar="F"
    )
    post_429: float = flag(0.0, "answer a fraction F of posts with 429", check=_fraction, metavar="F")
    post_latency_ms: float = flag(0.0, "delay every post by N ms", check=_non_negative, metavar="N")
    fault_seed: int | None = flag(
        None,
        "draw the injected faults from seed N (same connections and messages, same faults); "
        "default: a random seed, shown in /_wsrelay/stats",
        metavar="N",
    )
    quiet: bool = flag(False, "no console line per invocation")
    log_max_mb: float = flag(
        64.0,
        "rotate STATE_DIR/handlers.log to handlers.log.1 past N MiB (0 = never)",
        check=_non_negative,
        metavar="N",
    )

    @property
    def log_max_bytes(self) -> int:
        return int(self.log_max_mb * 2**20)

    def relay_settings(self, management_endpoint: str) -> Settings:
        """The relay's `Settings` as these flags give them, for both runtimes: the in-process
        runtime builds its functions from them, the worker processes get them as environment."""
        return Settings(
            table=self.table,
            result_ttl_seconds=self.result_ttl_seconds,
            store=self.store,
            sqlite_path=str((self.state_dir / "relay.sqlite3").resolve()),
            management_endpoint=management_endpoint,
            dynamodb_endpoint=self.dynamodb_endpoint,
            legacy_subscriptions=self.legacy_subscriptions,
            region=aws_region(),
            publisher_ack=self.publisher_ack,
        )

    def validate(self) -> GatewaySettings:
        """Raise `SettingsError` naming the first bad flag; return self."""
        for f in dataclasses.fields(self):
            check = f.metadata.get("check")
            value = getattr(self, f.name)
            problem = check(value) if check is not None else None
            if problem is not None:
                raise SettingsError(f"{flag_name(f)} {problem}, got {value!r}")
        if self.publisher_ack == STORED and self.result_ttl_seconds < MIN_STORED_ACK_TTL_SECONDS:
            raise SettingsError(
                f"--result-ttl (RESULT_TTL_SECONDS) must be at least {MIN_STORED_ACK_TTL_SECONDS} with "
                f"--publisher-ack stored (the router waits 60 s, plus a reconnect), got "
                f"{self.result_ttl_seconds}; or use --publisher-ack router"
            )
        if self.store == "dynamodb" and not self.dynamodb_endpoint:
            raise SettingsError("--store dynamodb needs --dynamodb-endpoint URL")
        if "$default" not in self.routes:
            raise SettingsError("a $default route is required")
        return self


def flag_name(f: dataclasses.Field[Any]) -> str:
    """The ``--flag`` of a settings field."""
    return "--" + (f.metadata.get("name") or f.name.replace("_", "-"))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every `GatewaySettings` field as a flag of `parser`."""
    hints = typing.get_type_hints(GatewaySettings)
    for f in dataclasses.fields(GatewaySettings):
        kind = hints[f.name]
        meta = f.metadata
        options: dict[str, Any] = {"help": meta["help"], "dest": f.name}
        if kind is bool:
            parser.add_argument(flag_name(f), action="store_true", **options)
            continue
        options["metavar"] = meta.get("metavar") or flag_name(f)[2:].upper().replace("-", "_")
        if f.name == "routes":
            parser.add_argument(flag_name(f), action="append", default=[], **options)
        else:
            parse = next(t for t in typing.get_args(kind) or (kind,) if t is not type(None))
            parser.add_argument(flag_name(f), type=parse, default=f.default, **options)


def from_arguments(args: argparse.Namespace) -> GatewaySettings:
    """Validated `GatewaySettings` from the parsed flags."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(GatewaySettings)}
    values["routes"] = routes_from_specs(values["routes"])
    return GatewaySettings(**values).validate()
