"""`wsrelay serve`: wire settings, store, runtime and gateway together and run until a signal.

The first line on stdout names the endpoints, for scripts:
``wsrelay serve: websocket=ws://H:P/STAGE management=http://H:P/STAGE stats=http://H:P/_wsrelay/stats``
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Callable
from typing import Any

from wsrelay.gateway.outbound import gateway_outbound
from wsrelay.gateway.runtimes import InProcessRuntime, ProcessRuntime, Runtime, handler_environment
from wsrelay.gateway.server import Gateway
from wsrelay.gateway.settings import GatewaySettings, SettingsError


def prepare_dynamodb(settings: GatewaySettings) -> None:
    """Check the DynamoDB endpoint answers and the table exists (or create it)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from wsrelay.stores.dynamodb import create_table

    client: Any = boto3.client(
        "dynamodb",
        endpoint_url=settings.dynamodb_endpoint,
        region_name=os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "local"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "local"),
        config=Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 2}),
    )
    try:
        client.describe_table(TableName=settings.table)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise SettingsError(f"DynamoDB at {settings.dynamodb_endpoint} refused: {error}") from None
        if not settings.create_table:
            raise SettingsError(
                f"table {settings.table!r} does not exist at {settings.dynamodb_endpoint}; "
                "pass --create-table to create it"
            ) from None
        create_table(client, settings.table, legacy_index=settings.legacy_subscriptions)
    except BotoCoreError as error:
        raise SettingsError(f"cannot reach DynamoDB at {settings.dynamodb_endpoint}: {error}") from None


def build_runtime(settings: GatewaySettings, gateway: Gateway) -> Runtime:
    """The runtime `settings.runtime` names, with the handlers' environment."""
    env = handler_environment(settings, gateway.management_endpoint)
    if settings.runtime == "inprocess":
        assert gateway.loop is not None
        inline = settings.store == "sqlite" and not settings.post_latency_ms
        outbound = gateway_outbound(gateway, gateway.loop, settings.integration_timeout_s, inline)
        return InProcessRuntime(settings, env, outbound, inline)
    return ProcessRuntime(settings, env, settings.runtime)


async def run(settings: GatewaySettings, announce: Callable[[str], None] = print) -> None:
    """Serve until SIGINT/SIGTERM; then close every connection and stop the runtime."""
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    if settings.store == "dynamodb":
        await asyncio.to_thread(prepare_dynamodb, settings)
    gateway = Gateway(settings)
    await gateway.start()
    runtime = build_runtime(settings, gateway)
    await runtime.start()
    gateway.runtime = runtime
    # Everything imported so far (botocore's models among it) lives until exit: keep it out of
    # the collector's full passes, which otherwise walk it every few thousand allocations.
    gc.freeze()
    gateway.ready.set()
    announce(
        f"wsrelay serve: websocket={gateway.websocket_url} management={gateway.management_endpoint} "
        f"stats=http://{settings.host}:{gateway.port}/_wsrelay/stats "
        f"(runtime {settings.runtime}, store {settings.store})"
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await gateway.stop()
        await runtime.stop()
        if not settings.quiet:
            print("wsrelay serve: stopped", flush=True)
