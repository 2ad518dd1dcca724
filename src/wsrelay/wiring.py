"""Builds `RelayFunctions` from `Settings` with the production adapters: the Lambda host's
assembly (also used by the local stack's worker processes, which run the Lambda face).

- the store: DynamoDB (boto3, bounded retries and timeouts) or a SQLite file shared by several
  processes;
- the outbound: one Management API client per endpoint, built once and cached (on Lambda the
  endpoint is fixed by ``WSRELAY_MANAGEMENT_ENDPOINT`` and built at init).

boto3 is imported only when a DynamoDB store or a Management API client is built.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from wsrelay.config import Settings, aws_region
from wsrelay.functions import RelayFunctions
from wsrelay.ports import Outbound, Store


def boto_session(settings: Settings) -> Any:
    """A boto3 session in the configured region (credentials from the usual chain)."""
    import boto3

    return boto3.session.Session(region_name=settings.region)


def local_credentials() -> dict[str, str]:
    """Credentials for local endpoints (moto, the local stack): the environment's, else
    placeholders that local endpoints accept."""
    return {
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
    }


def local_session() -> Any:
    """A boto3 session for local endpoints, in the environment's region."""
    import boto3

    credentials = local_credentials()
    return boto3.session.Session(
        region_name=aws_region(),
        aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
    )


def dynamodb_client(session: Any, endpoint_url: str | None = None) -> Any:
    """A DynamoDB client whose calls end well inside API Gateway's 29 s: 3 attempts of 1 s
    connect + 1 s read, botocore's standard backoff."""
    from botocore.config import Config

    return session.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        config=Config(
            retries={"total_max_attempts": 3, "mode": "standard"},
            connect_timeout=1,
            read_timeout=1,
            tcp_keepalive=True,
        ),
    )


def dynamodb_store(settings: Settings, client: Any) -> Store:
    """The DynamoDB store on `client` as `settings` configure it."""
    from wsrelay.stores.dynamodb import DynamoDBStore

    return DynamoDBStore(client, settings.table, settings.result_ttl_seconds, settings.legacy_subscriptions)


def shared_store(settings: Settings, session: Any) -> Store:
    """The store a Lambda process uses: DynamoDB, or a SQLite file other processes share."""
    if settings.store == "sqlite":
        from wsrelay.stores.sqlite_shared import SharedSqliteStore

        return SharedSqliteStore(settings.sqlite_path, settings.result_ttl_seconds)
    return dynamodb_store(settings, dynamodb_client(session, settings.dynamodb_endpoint))


class ManagementApiOutbounds:
    """The outbound factory of a Lambda process: a Management API client per endpoint, cached."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self._lock = threading.Lock()
        self._outbounds: dict[str, Outbound] = {}

    def __call__(self, endpoint: str) -> Outbound:
        outbound = self._outbounds.get(endpoint)
        if outbound is None:
            with self._lock:
                outbound = self._outbounds.get(endpoint)
                if outbound is None:
                    outbound = self._outbounds[endpoint] = self._build(endpoint)
        return outbound

    def _build(self, endpoint: str) -> Outbound:
        from wsrelay.outbound.management_api import ManagementApiOutbound, client_config

        client = self.session.client("apigatewaymanagementapi", endpoint_url=endpoint, config=client_config())
        return ManagementApiOutbound(client)


def from_environment(env: Mapping[str, str]) -> RelayFunctions:
    """The Lambda init: validate the configuration (`ConfigError` names a bad variable) and build
    every client now, not on the first request."""
    settings = Settings.from_env(env).check()
    session = boto_session(settings)
    outbounds = ManagementApiOutbounds(session)
    if settings.management_endpoint is not None:
        outbounds(settings.management_endpoint)
    return RelayFunctions(settings, shared_store(settings, session), outbounds)
