"""``wsrelay serve``: the local stack's subcommand (flags from `GatewaySettings`)."""

from __future__ import annotations

import argparse
import asyncio

from wsrelay.cli import options
from wsrelay.cli.command import Command, add_config
from wsrelay.local.settings import GatewaySettings

DESCRIPTION = """\
Run the local API Gateway WebSocket emulator with the real wsrelay handlers.

The first line on stdout names the endpoints (websocket=, management=, stats=). SIGINT or
SIGTERM stops it cleanly (exit 0). A start-up failure (port in use, state directory in use or
not writable, DynamoDB unreachable, a handler's init) is one line and exit 3."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every `GatewaySettings` field, and ``--config``."""
    add_config(parser, "serve's settings")
    options.add_arguments(parser, GatewaySettings)


def run(args: argparse.Namespace) -> int:
    """Validate the flags, then serve until a signal."""
    from wsrelay.local.app import run as serve

    settings = options.build(GatewaySettings, args, args.config)
    asyncio.run(serve(settings, lambda line: print(line, flush=True)))
    return 0


COMMAND = Command(
    name="serve",
    summary="run the local stack (API Gateway WebSocket emulator + the real handlers)",
    description=DESCRIPTION,
    add_arguments=add_arguments,
    run=run,
    interrupted_exit=0,
)
