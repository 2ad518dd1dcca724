"""Helpers shared by the benchmarks: a moto DynamoDB server on loopback, and boto3 clients for
local endpoints (placeholder credentials given to the client, never written to the
environment)."""

from __future__ import annotations

import os
from typing import Any

from wsrelay.testing import moto_serial

moto_server = moto_serial.running

# For the benchmarks' child processes: what a local endpoint accepts, unless the caller has its own.
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", "bench"),
    "AWS_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY", "bench"),
}


def target(description: str, met: bool) -> str:
    """A benchmark's verdict on one figure: ``target DESCRIPTION: met`` or ``...: MISSED``, so a
    figure below its target is marked where it is printed (``make bench | grep MISSED``)."""
    return f"target {description}: {'met' if met else 'MISSED'}"


def local_client(service: str, endpoint_url: str, **options: Any) -> Any:
    """A boto3 client for a local endpoint (moto, the recording Management API)."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        **options,
    )
