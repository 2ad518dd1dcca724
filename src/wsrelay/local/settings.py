"""Settings of the local gateway (`wsrelay serve`), declared once with `wsrelay.cli.options`:
every field is a flag and a TOML key, with its help, unit and check. Defaults are API Gateway's
quotas (docs/aws-facts.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wsrelay.cli.checks import CannotRun, UsageError, check_input
from wsrelay.cli.options import between, check_units, fraction, non_negative, positive, setting
from wsrelay.config import (
    MAX_RESULT_TTL_SECONDS,
    MIN_STORED_ACK_TTL_SECONDS,
    STORES,
    TABLE_NAME,
    Settings,
    aws_region,
)
from wsrelay.relay import PUBLISHER_ACK_MODES, STORED
from wsrelay.roles import ENFORCE, MODES

if TYPE_CHECKING:
    from wsrelay.auth.settings import AuthSettings

RUNTIMES = ("inprocess", "lmi", "ondemand")
HANDLERS = {
    "$connect": "wsrelay.handlers.onconnect",
    "$disconnect": "wsrelay.handlers.ondisconnect",
    "$default": "wsrelay.handlers.sendmessage",
}
# The emulator's name for the $connect authorizer among its routes (stats, console lines): not
# a route key a message can select.
AUTHORIZER = "$authorizer"
AUTHORIZER_HANDLER = "wsrelay.handlers.authorize"
MAX_AUTH_LEEWAY_S = 300
# The $connect route's authorization, as Terraform's `authorization` names it.
NO_AUTH, TOKEN_AUTH, IAM_AUTH = "none", "token", "iam"
AUTH_KINDS = (NO_AUTH, TOKEN_AUTH, IAM_AUTH)

# API Gateway WebSocket quotas (docs/aws-facts.md).
FRAME_LIMIT = 32 * 1024
MESSAGE_LIMIT = 128 * 1024
IDLE_TIMEOUT_S = 600.0
MAX_DURATION_S = 7200.0
INTEGRATION_TIMEOUT_S = 29.0


class StartupError(CannotRun):
    """The gateway cannot start: the port, the state directory, DynamoDB or a handler's init.
    One line; exit status 3 (could not run)."""


def _table(v: str) -> str | None:
    return None if TABLE_NAME.fullmatch(v) else "must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)"


def _http_url(v: str | None) -> str | None:
    return None if v is None or v.startswith(("http://", "https://")) else "must be an http(s) URL"


def _stage(v: str) -> str | None:
    return None if v and "/" not in v else "must be a non-empty name without '/'"


def _selection(v: str) -> str | None:
    return None if v.startswith("$request.body.") else "must look like $request.body.FIELD"


def _route(spec: str) -> str | None:
    key, _, handler = spec.partition("=")
    if not key:
        return "expected KEY or KEY=module.function"
    if handler and "." not in handler:
        return "the handler must be module.function"
    return None


def parse_window(text: str) -> tuple[float, float]:
    """``--fault-window-s START:END``: seconds after the server starts, 0 <= START < END, both
    finite; ValueError saying what is wrong."""
    start_text, colon, end_text = text.partition(":")
    try:
        if not colon:
            raise ValueError
        start, end = float(start_text), float(end_text)
    except ValueError:
        raise ValueError(f"expected START:END in seconds (e.g. 20:40), got {text!r}") from None
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        raise ValueError(f"needs finite seconds with 0 <= START < END, got {text!r}")
    return start, end


def window_from_toml(value: object) -> tuple[float, float]:
    """``fault_window_s`` in a TOML file: ``"20:40"`` or ``[20, 40]``; `UsageError` if bad."""
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int | float) for v in value):
        value = f"{value[0]}:{value[1]}"
    if not isinstance(value, str):
        raise UsageError(f'fault_window_s: expected "START:END" or [START, END], got {value!r}')
    try:
        return parse_window(value)
    except ValueError as error:
        raise UsageError(f"fault_window_s: {error}") from None


def routes_from_specs(specs: tuple[str, ...]) -> dict[str, str]:
    """``--route KEY[=module.function]`` flags on top of the three default routes."""
    routes = dict(HANDLERS)
    for spec in specs:
        key, _, handler = spec.partition("=")
        routes[key] = handler or HANDLERS["$default"]
    return routes


@dataclass
class GatewaySettings:
    """Everything `wsrelay serve` is configured with; each field is its flag and TOML key."""

    host: str = setting("127.0.0.1", "address to listen on")
    port: int = setting(3001, "TCP port; 0 picks a free one", check=between(0, 65535))
    stage: str = setting("local", "the API's stage: the URL path", check=_stage)
    runtime: str = setting(
        "inprocess",
        "where the handlers run: in the gateway's process, LMI-style worker processes, or on demand",
        choices=RUNTIMES,
    )
    store: str = setting("sqlite", "the relay's store (WSRELAY_STORE)", choices=STORES)
    state_dir: Path = setting(  # noqa: RUF009 - a field()
        Path(".wsrelay"), "folder of the SQLite file, handlers.log and the server's lock", toml=False
    )
    dynamodb_endpoint: str | None = setting(
        None, "with --store dynamodb: e.g. http://127.0.0.1:8000", check=_http_url
    )
    create_table: bool = setting(False, "create the DynamoDB table (with TTL) if absent")
    table: str = setting("events-connections", "the DynamoDB table (CONNECTIONS_TABLE)", check=_table)
    result_ttl_s: int = setting(
        600,
        "how long a result stays stored (RESULT_TTL_SECONDS)",
        unit="s",
        check=between(1, MAX_RESULT_TTL_SECONDS),
    )
    legacy_subscriptions: bool = setting(
        False, "also read the legacy subscription index (WSRELAY_LEGACY_SUBSCRIPTIONS)"
    )
    publisher_ack: str = setting(
        STORED,
        "who acks a publisher (WSRELAY_PUBLISHER_ACK): the relay once the result is stored "
        "(stored; needs --result-ttl-s >= 120) or the subscriber (router)",
        choices=PUBLISHER_ACK_MODES,
    )
    concurrency: int | None = setting(
        None,
        "inprocess: handler threads (default 16); lmi: processes per function (default 4)",
        check=between(1, 256),
    )
    cold_start_ms: float = setting(
        250.0, "ondemand: extra delay of a cold start", unit="ms", check=non_negative
    )
    max_concurrency: int = setting(
        0, "ondemand: environments per function before throttling (0: unlimited)", check=non_negative
    )
    keep_warm_s: float = setting(
        300.0, "ondemand: idle time an environment is kept", unit="s", check=positive
    )
    route_selection_expression: str = setting("$request.body.action", "route selection", check=_selection)
    route: tuple[str, ...] = setting(
        (),
        "a custom route key (the handler defaults to wsrelay.handlers.sendmessage); repeatable",
        repeatable=True,
        metavar="KEY[=module.function]",
        check=_route,
    )
    frame_limit: int = setting(FRAME_LIMIT, "largest frame", unit="bytes", check=positive)
    message_limit: int = setting(MESSAGE_LIMIT, "largest message", unit="bytes", check=positive)
    idle_timeout_s: float = setting(
        IDLE_TIMEOUT_S, "close a connection idle this long", unit="s", check=positive
    )
    max_duration_s: float = setting(MAX_DURATION_S, "close a connection this old", unit="s", check=positive)
    integration_timeout_s: float = setting(
        INTEGRATION_TIMEOUT_S, "an invocation running longer fails", unit="s", check=positive
    )
    drop_disconnect: float = setting(
        0.0, "never run $disconnect for a fraction F of closes", check=fraction, metavar="F"
    )
    post_410: float = setting(
        0.0, "answer a fraction F of posts with 410 and drop that connection", check=fraction, metavar="F"
    )
    post_429: float = setting(0.0, "answer a fraction F of posts with 429", check=fraction, metavar="F")
    post_latency_ms: float = setting(0.0, "delay every post", unit="ms", check=non_negative)
    connection_lifetime_s: float | None = setting(
        None,
        "close each connection (1001 Going away) after an exponentially distributed lifetime of "
        "this mean, drawn from --fault-seed and the connection's ordinal: network drops, API "
        "Gateway's limits (default: no such closes)",
        unit="s",
        check=positive,
        metavar="MEAN",
    )
    fault_window_s: tuple[float, float] | None = setting(
        None,
        "inject every fault (posts, disconnects, lifetimes) only from START to END seconds after "
        "the server starts (default: all the time)",
        unit="s",
        parse=parse_window,
        from_toml=window_from_toml,
        metavar="START:END",
    )
    fault_seed: int | None = setting(
        None,
        "draw the injected faults from seed N (same connections and messages, same faults); "
        "default: a random seed, shown in /_wsrelay/stats",
        metavar="N",
    )
    auth: str | None = setting(
        None,
        "the $connect route's authorization, as the module's `authorization`: none, token (the "
        "wsrelay.handlers.authorize REQUEST authorizer; needs --auth-secret-file) or iam (SigV4 "
        "on the upgrade; needs --iam-credentials-file)",
        choices=AUTH_KINDS,
        shown_default="token with --auth-secret-file, iam with --iam-credentials-file, else none",
    )
    auth_secret_file: Path | None = setting(  # noqa: RUF009 - a field()
        None,
        "authorize $connect as API Gateway does with the wsrelay.handlers.authorize REQUEST "
        "authorizer: HS256 secret on line 1 of FILE, the previous one on line 2; a connection "
        "without ?token= gets 401, a refused token 403 (implies --auth token)",
        metavar="FILE",
    )
    iam_credentials_file: Path | None = setting(  # noqa: RUF009 - a field()
        None,
        "authorize $connect as API Gateway does with IAM: the upgrade must be signed with SigV4 "
        "(service execute-api) by the access key id on line 1 of FILE, whose secret access key is "
        "line 2; unsigned or badly signed gets 403 (implies --auth iam)",
        metavar="FILE",
    )
    auth_mode: str = setting(
        ENFORCE,
        "with --auth-secret-file: refuse bad tokens and role violations, or only log and count "
        "them (WSRELAY_AUTH_MODE)",
        choices=MODES,
    )
    auth_leeway_s: int = setting(
        5,
        "with --auth-secret-file: clock skew allowed on a token's exp (WSRELAY_AUTH_LEEWAY_SECONDS)",
        unit="s",
        check=between(0, MAX_AUTH_LEEWAY_S),
    )
    dashboard: bool = setting(
        False,
        "serve a live dashboard at http://HOST:PORT/_wsrelay/ (its URL with a per-run token on the "
        "first line; the token also in STATE_DIR/dashboard-token)",
    )
    quiet: bool = setting(False, "no console line per invocation")
    log_max_mib: float = setting(
        64.0,
        "rotate STATE_DIR/handlers.log to handlers.log.1 past this size (0: never)",
        unit="MiB",
        check=non_negative,
    )

    @property
    def authorization(self) -> str:
        """The $connect route's authorization: ``--auth``, else what the file flags imply (the
        way issue 22's ``--auth-secret-file`` alone turned the authorizer on)."""
        if self.auth is not None:
            return self.auth
        if self.auth_secret_file is not None:
            return TOKEN_AUTH
        return IAM_AUTH if self.iam_credentials_file is not None else NO_AUTH

    @property
    def routes(self) -> dict[str, str]:
        """Route key -> handler (``module.function``): the three defaults, ``--route`` and, with
        ``--auth token``, the authorizer (`AUTHORIZER`)."""
        routes = routes_from_specs(self.route)
        if self.authorization == TOKEN_AUTH:
            routes[AUTHORIZER] = AUTHORIZER_HANDLER
        return routes

    def iam_credentials(self) -> tuple[str, str] | None:
        """(access key id, secret access key) of ``--iam-credentials-file`` under ``--auth iam``
        (None otherwise); `UsageError` for a file that does not hold them."""
        if self.authorization != IAM_AUTH or self.iam_credentials_file is None:
            return None
        from wsrelay.local.iam import read_credentials_file

        return read_credentials_file(self.iam_credentials_file)

    def auth_settings(self) -> AuthSettings | None:
        """The authorizer's settings as ``--auth-*`` give them (None without
        ``--auth token``); `UsageError` for a file that is missing or holds no usable secret."""
        if self.authorization != TOKEN_AUTH or self.auth_secret_file is None:
            return None
        from wsrelay.auth.settings import AuthSettings, read_secret_file
        from wsrelay.config import ConfigError

        flag = "--auth-secret-file"
        check_input(self.auth_secret_file, flag)
        path = self.auth_secret_file.resolve()
        try:
            secrets = read_secret_file(path, flag)
        except ConfigError as error:
            raise UsageError(str(error)) from None
        return AuthSettings(secrets, self.auth_mode, self.auth_leeway_s, str(path))

    @property
    def log_max_bytes(self) -> int:
        """``--log-max-mib`` in bytes."""
        return int(self.log_max_mib * 2**20)

    def relay_settings(self, management_endpoint: str) -> Settings:
        """The relay's `Settings` as these flags give them, for both runtimes: the in-process
        runtime builds its functions from them, the worker processes get them as environment."""
        return Settings(
            table=self.table,
            result_ttl_seconds=self.result_ttl_s,
            store=self.store,
            sqlite_path=str((self.state_dir / "relay.sqlite3").resolve()),
            management_endpoint=management_endpoint,
            dynamodb_endpoint=self.dynamodb_endpoint,
            legacy_subscriptions=self.legacy_subscriptions,
            region=aws_region(),
            publisher_ack=self.publisher_ack,
        )

    def validate(self) -> GatewaySettings:
        """The checks across flags (each flag's own check ran already): `UsageError`; self."""
        if self.publisher_ack == STORED and self.result_ttl_s < MIN_STORED_ACK_TTL_SECONDS:
            raise UsageError(
                f"--result-ttl-s (RESULT_TTL_SECONDS) must be at least {MIN_STORED_ACK_TTL_SECONDS} with "
                f"--publisher-ack stored (the router waits 60 s, plus a reconnect), got "
                f"{self.result_ttl_s}; or use --publisher-ack router"
            )
        if self.store == "dynamodb" and not self.dynamodb_endpoint:
            raise UsageError("--store dynamodb needs --dynamodb-endpoint URL")
        kind = self.authorization
        needs = {TOKEN_AUTH: ("--auth-secret-file", self.auth_secret_file)}
        needs[IAM_AUTH] = ("--iam-credentials-file", self.iam_credentials_file)
        for other, (flag, given) in needs.items():
            if kind == other and given is None:
                raise UsageError(f"--auth {kind} needs {flag} FILE")
            if kind != other and given is not None:
                raise UsageError(f"{flag} is for --auth {other}, not --auth {kind}")
        self.auth_settings()  # the secret file, checked before anything starts
        self.iam_credentials()  # the credentials file too
        return self


check_units(GatewaySettings)
