"""Helpers shared by the benchmarks: a moto DynamoDB server on loopback, credentials."""

from __future__ import annotations

import os

from wsrelay.tools import moto_serial

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


moto_server = moto_serial.running
