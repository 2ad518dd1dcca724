"""Shared fixtures: a real moto DynamoDB server on loopback, a recording Management API,
fresh tables, and handler modules loaded under a given environment."""

from __future__ import annotations

import importlib
import os
import uuid
from collections.abc import Iterator

import boto3
import pytest

from wsrelay.stores.dynamodb import create_table
from wsrelay.tools import moto_serial
from wsrelay.tools.recording_api import RecordingManagementApi

os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.pop("AWS_LAMBDA_FUNCTION_NAME", None)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's standalone server in its own process, over HTTP, one request at a time."""
    with moto_serial.running() as url:
        yield url


@pytest.fixture
def dynamodb_client(moto_endpoint: str):
    return boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def table(dynamodb_client) -> str:
    """A fresh table with today's schema, including the legacy SubscriptionIndex."""
    name = f"events-{uuid.uuid4().hex[:12]}"
    create_table(dynamodb_client, name, legacy_index=True)
    return name


@pytest.fixture
def management_api() -> Iterator[RecordingManagementApi]:
    with RecordingManagementApi() as api:
        yield api


@pytest.fixture
def load_handlers(monkeypatch):
    """Import wsrelay.handlers afresh under the given environment variables."""

    def load(**env: str):
        for name in (
            "WSRELAY_STORE",
            "WSRELAY_MANAGEMENT_ENDPOINT",
            "AWS_ENDPOINT_URL_DYNAMODB",
            "WSRELAY_LEGACY_SUBSCRIPTIONS",
            "CONNECTIONS_TABLE",
            "RESULT_TTL_SECONDS",
        ):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        import wsrelay.handlers

        return importlib.reload(wsrelay.handlers)

    yield load
