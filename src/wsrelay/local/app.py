"""`wsrelay serve`: build the local stack whole (listening socket, connections, runtime,
gateway) and run it until a signal.

The first line on stdout names the endpoints, for scripts:
``wsrelay serve: websocket=ws://H:P/STAGE management=http://H:P/STAGE stats=http://H:P/_wsrelay/stats``
(with ``--dashboard``, then ``dashboard=http://H:P/_wsrelay/#token=TOKEN``).

A start-up failure raises `StartupError` with one line saying what failed: the state
directory, the port, DynamoDB (unreachable, refusing, or the table missing) or a handler's init.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
from collections.abc import Callable
from typing import Any

from wsrelay.local.console import Console
from wsrelay.local.faults import Faults
from wsrelay.local.open_connections import Connections
from wsrelay.local.runtimes.base import Runtime
from wsrelay.local.runtimes.inprocess.outbound import gateway_outbound
from wsrelay.local.runtimes.inprocess.runtime import InProcessRuntime
from wsrelay.local.runtimes.process.runtime import ProcessRuntime
from wsrelay.local.server import Gateway, listen
from wsrelay.local.settings import GatewaySettings, StartupError
from wsrelay.local.state_lock import StateLock
from wsrelay.local.stats import GatewayStats
from wsrelay.wiring import local_session


def prepare_dynamodb(settings: GatewaySettings) -> None:
    """Check the DynamoDB endpoint answers and the table exists (or create it)."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from wsrelay.stores.dynamodb import create_table

    client: Any = local_session().client(
        "dynamodb",
        endpoint_url=settings.dynamodb_endpoint,
        config=Config(connect_timeout=2, read_timeout=5, retries={"total_max_attempts": 2}),
    )
    try:
        client.describe_table(TableName=settings.table)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise StartupError(f"DynamoDB at {settings.dynamodb_endpoint} refused: {error}") from None
        if not settings.create_table:
            raise StartupError(
                f"table {settings.table!r} does not exist at {settings.dynamodb_endpoint}; "
                "pass --create-table to create it"
            ) from None
        create_table(client, settings.table, legacy_index=settings.legacy_subscriptions)
    except BotoCoreError as error:
        raise StartupError(f"cannot reach DynamoDB at {settings.dynamodb_endpoint}: {error}") from None


def build_runtime(settings: GatewaySettings, management_endpoint: str, connections: Connections) -> Runtime:
    """The runtime `settings.runtime` names."""
    if settings.runtime == "inprocess":
        inline = settings.store == "sqlite" and not settings.post_latency_ms
        loop = asyncio.get_running_loop()
        outbound = gateway_outbound(connections, loop, settings.integration_timeout_s, inline)
        return InProcessRuntime(settings, management_endpoint, outbound, inline)
    return ProcessRuntime(settings, management_endpoint)


async def run(settings: GatewaySettings, announce: Callable[[str], None] = print) -> None:
    """Serve until SIGINT/SIGTERM; then close every connection and stop the runtime.

    The signals are caught from the start: one that arrives while the stack starts (or right
    after the first line, which scripts wait for) stops it cleanly once it is up, exit status 0.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        # Its folder must exist: a mistyped --state-dir /nope/x never creates /nope.
        settings.state_dir.mkdir(exist_ok=True)
    except OSError as error:
        raise StartupError(f"cannot create --state-dir {settings.state_dir}: {error.strerror}") from None
    lock = StateLock(settings.state_dir)
    lock.acquire()
    try:
        await _serve(settings, announce, stop, lock)
    finally:
        lock.release()


async def _serve(
    settings: GatewaySettings, announce: Callable[[str], None], stop: asyncio.Event, lock: StateLock
) -> None:
    if settings.store == "dynamodb":
        await asyncio.to_thread(prepare_dynamodb, settings)
    try:
        sock = listen(settings.host, settings.port)
    except OSError as error:
        # socket.create_server words it "<strerror> (while attempting to bind on ...)", and a
        # name that does not resolve carries a getaddrinfo code, not an errno.
        reason = os.strerror(error.errno) if error.errno and error.errno > 0 else str(error.strerror or error)
        reason = reason.split(" (while attempting")[0]
        raise StartupError(f"cannot listen on {settings.host}:{settings.port}: {reason}") from None
    port = sock.getsockname()[1]
    lock.name(port)
    management_endpoint = f"http://{settings.host}:{port}/{settings.stage}"
    faults = Faults(
        settings.post_410,
        settings.post_429,
        settings.drop_disconnect,
        settings.fault_seed,
        lifetime_mean_s=settings.connection_lifetime_s,
        window_s=settings.fault_window_s,
    )
    dashboard = None
    if settings.dashboard:  # imported only when asked for: the page's modules and assets
        from wsrelay.local.dashboard.routes import Dashboard

        dashboard = Dashboard.build(settings, GatewayStats(), faults, port)
        connections: Connections = dashboard.connections
        faults = connections.faults  # the dashboard's LiveFaults, which the gateway must start
    else:
        connections = Connections(settings, GatewayStats(), faults)
    runtime = build_runtime(settings, management_endpoint, connections)
    try:
        await runtime.start()
    except Exception as error:
        sock.close()
        await runtime.stop()
        raise StartupError(f"the {settings.runtime} runtime cannot start: {error}") from None
    gateway = Gateway(settings, sock, connections, runtime, None if settings.quiet else Console(), dashboard)
    await gateway.start()
    # Everything imported so far (botocore's models among it) lives until exit: keep it out of
    # the collector's full passes, which otherwise walk it every few thousand allocations.
    gc.freeze()
    faults.start()  # --fault-window-s counts from the moment the server serves
    announce(
        f"wsrelay serve: websocket={gateway.websocket_url} management={gateway.management_endpoint} "
        f"stats={gateway.stats_url}{'' if dashboard is None else ' dashboard=' + dashboard.url} "
        f"(runtime {settings.runtime}, store {settings.store})"
    )
    try:
        await stop.wait()
    finally:
        await gateway.stop()
        await runtime.stop()
        if not settings.quiet:
            print("wsrelay serve: stopped", flush=True)
