"""Shared fixtures: a real moto DynamoDB server on loopback, a recording Management API,
fresh tables, and the relay's functions built under a given environment."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import boto3
import pytest

from wsrelay.functions import RelayFunctions
from wsrelay.stores.dynamodb import create_table
from wsrelay.testing import moto_serial
from wsrelay.testing.recording_api import RecordingManagementApi
from wsrelay.wiring import from_environment


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
    """A fresh table with the legacy Node relay's schema, including the legacy SubscriptionIndex."""
    name = f"events-{uuid.uuid4().hex[:12]}"
    create_table(dynamodb_client, name, legacy_index=True)
    return name


@pytest.fixture
def management_api() -> Iterator[RecordingManagementApi]:
    with RecordingManagementApi() as api:
        yield api


@pytest.fixture
def build_functions():
    """The Lambda init under a given environment: `RelayFunctions` as `wsrelay.handlers` builds
    them (AWS credentials and region from the test process's environment).

    ``WSRELAY_PUBLISHER_ACK`` is ``router`` unless the test sets it: the tests written before the
    setting existed check today's behaviour, which is exactly router mode; the ``stored`` mode
    (the default in AWS) has its own tests that say so."""

    def build(**env: str) -> RelayFunctions:
        return from_environment({"AWS_REGION": "us-east-1", "WSRELAY_PUBLISHER_ACK": "router", **env})

    return build
