"""Configuration of the handlers, read from the environment once per process.

Every variable is validated at start (module import in Lambda); a bad value raises
`ConfigError` whose message names the variable, so a misconfigured deployment fails its init
instead of losing results later. docs/configuration.md lists them all.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from wsrelay.relay import PUBLISHER_ACK_MODES, STORED

STORES = ("dynamodb", "sqlite")
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
MAX_RESULT_TTL_SECONDS = 7 * 24 * 3600
DEFAULT_REGION = "us-east-1"
# With publisher_ack=stored the result must outlive the router's wait (60 s) plus a reconnect:
# the stored result is then the only copy (docs/protocol.md).
MIN_STORED_ACK_TTL_SECONDS = 120


class ConfigError(ValueError):
    """A configuration variable has a value wsrelay cannot run with."""


@dataclass(frozen=True)
class Settings:
    """Validated configuration; see docs/configuration.md."""

    table: str = "events-connections"
    result_ttl_seconds: int = 600
    store: str = "sqlite"
    sqlite_path: str = ".wsrelay/relay.sqlite3"
    management_endpoint: str | None = None
    dynamodb_endpoint: str | None = None  # AWS_ENDPOINT_URL_DYNAMODB, as boto3 reads it
    legacy_subscriptions: bool = False
    metrics_namespace: str = "wsrelay"
    service: str = "wsrelay"
    region: str = DEFAULT_REGION
    publisher_ack: str = STORED

    def check(self) -> Settings:
        """The rules across variables, checked by every host's init (`wsrelay.wiring`,
        `RelayFunctions`): raise `ConfigError` naming the variable; return self."""
        if self.publisher_ack == STORED and self.result_ttl_seconds < MIN_STORED_ACK_TTL_SECONDS:
            raise ConfigError(
                f"RESULT_TTL_SECONDS must be at least {MIN_STORED_ACK_TTL_SECONDS} with "
                f"WSRELAY_PUBLISHER_ACK=stored (the router waits 60 s, plus a reconnect), "
                f"got {self.result_ttl_seconds}"
            )
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every variable; raise `ConfigError` naming the first bad one."""
        env = os.environ if env is None else env
        in_lambda = bool(env.get("AWS_LAMBDA_FUNCTION_NAME"))
        table = env.get("CONNECTIONS_TABLE", cls.table)
        if not TABLE_NAME.fullmatch(table):
            raise ConfigError(
                f"CONNECTIONS_TABLE must be a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -), got {table!r}"
            )
        store = env.get("WSRELAY_STORE", "dynamodb" if in_lambda else "sqlite").strip().lower()
        if store not in STORES:
            raise ConfigError(f"WSRELAY_STORE must be one of {', '.join(STORES)}, got {store!r}")
        endpoint = env.get("WSRELAY_MANAGEMENT_ENDPOINT") or None
        if endpoint is not None and not endpoint.startswith(("https://", "http://")):
            raise ConfigError(
                f"WSRELAY_MANAGEMENT_ENDPOINT must be an http(s) URL such as "
                f"https://abc123.execute-api.us-east-1.amazonaws.com/prod, got {endpoint!r}"
            )
        namespace = env.get("WSRELAY_METRICS_NAMESPACE", cls.metrics_namespace)
        service = env.get("WSRELAY_SERVICE", cls.service)
        for name, value in (("WSRELAY_METRICS_NAMESPACE", namespace), ("WSRELAY_SERVICE", service)):
            if not value or len(value) > 255:
                raise ConfigError(f"{name} must be 1-255 characters, got {value!r}")
        publisher_ack = env.get("WSRELAY_PUBLISHER_ACK", "").strip().lower() or cls.publisher_ack
        if publisher_ack not in PUBLISHER_ACK_MODES:
            modes = ", ".join(PUBLISHER_ACK_MODES)
            raise ConfigError(f"WSRELAY_PUBLISHER_ACK must be one of {modes}, got {publisher_ack!r}")
        return cls(
            table=table,
            result_ttl_seconds=_positive_int(env, "RESULT_TTL_SECONDS", cls.result_ttl_seconds),
            store=store,
            sqlite_path=env.get("WSRELAY_SQLITE_PATH") or cls.sqlite_path,
            management_endpoint=endpoint.rstrip("/") if endpoint else None,
            dynamodb_endpoint=env.get("AWS_ENDPOINT_URL_DYNAMODB") or None,
            legacy_subscriptions=_boolean(env, "WSRELAY_LEGACY_SUBSCRIPTIONS"),
            metrics_namespace=namespace,
            service=service,
            region=aws_region(env),
            publisher_ack=publisher_ack,
        )

    def to_env(self) -> dict[str, str]:
        """The environment variables `from_env` reads back as these settings (what Terraform
        sets for the functions in AWS; the local stack gives it to its worker processes)."""
        env = {
            "CONNECTIONS_TABLE": self.table,
            "RESULT_TTL_SECONDS": str(self.result_ttl_seconds),
            "WSRELAY_STORE": self.store,
            "WSRELAY_SQLITE_PATH": self.sqlite_path,
            "WSRELAY_LEGACY_SUBSCRIPTIONS": "true" if self.legacy_subscriptions else "false",
            "WSRELAY_METRICS_NAMESPACE": self.metrics_namespace,
            "WSRELAY_SERVICE": self.service,
            "AWS_REGION": self.region,
            "WSRELAY_PUBLISHER_ACK": self.publisher_ack,
        }
        if self.management_endpoint is not None:
            env["WSRELAY_MANAGEMENT_ENDPOINT"] = self.management_endpoint
        if self.dynamodb_endpoint is not None:
            env["AWS_ENDPOINT_URL_DYNAMODB"] = self.dynamodb_endpoint
        return env


def aws_region(env: Mapping[str, str] | None = None) -> str:
    """The AWS region the SDK would pick from the environment, else ``us-east-1``."""
    env = os.environ if env is None else env
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds, got {raw!r}") from None
    if not 1 <= value <= MAX_RESULT_TTL_SECONDS:
        raise ConfigError(f"{name} must be between 1 and {MAX_RESULT_TTL_SECONDS}, got {value}")
    return value


def _boolean(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw == "":
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")
