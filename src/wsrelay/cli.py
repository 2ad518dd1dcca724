"""The ``wsrelay`` command: ``serve`` (the local stack), ``package`` (the Lambda zip),
``prune-versions`` (old Lambda versions) and the operator tools (``TOOLS``).

Every subcommand validates its flags first and exits with status 2 and a one-line message that
names the bad flag, before doing anything.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import importlib.util
import sys
from pathlib import Path
from typing import Any, NoReturn

from wsrelay.gateway.settings import HANDLERS, GatewaySettings, SettingsError

# Operator tools: subcommand -> module exposing ``HELP: str``,
# ``add_arguments(parser: argparse.ArgumentParser) -> None`` and ``run(args) -> int``.
# Imported only when the command line is parsed, so ``serve`` pays nothing for them.
TOOLS = {
    "smoke": "wsrelay.smoke.command",
    "loadtest": "wsrelay.loadtest.command",
    "loadtest-merge": "wsrelay.loadtest.merge_command",
    "cost": "wsrelay.cost.command",
    "simulate": "wsrelay.simulate.command",
}


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``wsrelay CMD: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def _fraction(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def _routes(specs: list[str]) -> dict[str, str]:
    routes = dict(HANDLERS)
    for spec in specs:
        key, _, handler = spec.partition("=")
        if not key:
            raise SettingsError(f"--route {spec!r}: expected KEY or KEY=module.function")
        routes[key] = handler or HANDLERS["$default"]
    return routes


def add_serve(sub: argparse._SubParsersAction[Any]) -> None:
    d = GatewaySettings()
    p = sub.add_parser(
        "serve",
        help="run the local stack (API Gateway WebSocket emulator + the real handlers)",
        description="Run the local API Gateway WebSocket emulator with the real wsrelay handlers.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--host", default=d.host)
    p.add_argument("--port", type=int, default=d.port, help="0 picks a free port")
    p.add_argument("--stage", default=d.stage)
    p.add_argument("--runtime", default=d.runtime, help="inprocess | lmi | ondemand")
    p.add_argument("--store", default=d.store, help="sqlite | dynamodb")
    p.add_argument("--state-dir", type=Path, default=d.state_dir, help="SQLite file and handler logs")
    p.add_argument("--dynamodb-endpoint", default=None, help="e.g. http://127.0.0.1:8000")
    p.add_argument("--create-table", action="store_true", help="create the table (with TTL) if absent")
    p.add_argument("--table", default=d.table)
    p.add_argument("--result-ttl", type=int, default=d.result_ttl_seconds, help="RESULT_TTL_SECONDS")
    p.add_argument("--legacy-subscriptions", action="store_true", help="WSRELAY_LEGACY_SUBSCRIPTIONS")
    p.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="inprocess: handler threads (16); lmi: processes per function (4)",
    )
    p.add_argument("--cold-start-ms", type=float, default=d.cold_start_ms, help="ondemand: extra delay")
    p.add_argument(
        "--max-concurrency",
        type=int,
        default=d.max_concurrency,
        help="ondemand: environments per function before throttling (0 = unlimited)",
    )
    p.add_argument("--keep-warm", type=float, default=d.keep_warm_s, help="ondemand: idle seconds kept")
    p.add_argument("--route-selection-expression", default=d.route_selection_expression)
    p.add_argument(
        "--route",
        action="append",
        default=[],
        metavar="KEY[=module.function]",
        help="a custom route key (handler defaults to wsrelay.handlers.sendmessage)",
    )
    p.add_argument("--frame-limit", type=int, default=d.frame_limit, help="bytes per frame")
    p.add_argument("--message-limit", type=int, default=d.message_limit, help="bytes per message")
    p.add_argument("--idle-timeout", type=float, default=d.idle_timeout_s, help="seconds")
    p.add_argument("--max-duration", type=float, default=d.max_duration_s, help="seconds")
    p.add_argument("--integration-timeout", type=float, default=d.integration_timeout_s, help="seconds")
    p.add_argument(
        "--drop-disconnect",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="never run $disconnect for a fraction F of closes",
    )
    p.add_argument(
        "--post-410",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="answer a fraction F of posts with 410 and drop that connection",
    )
    p.add_argument(
        "--post-429", type=_fraction, default=0.0, metavar="F", help="answer a fraction F of posts with 429"
    )
    p.add_argument("--post-latency-ms", type=float, default=0.0, metavar="N")
    p.add_argument("--quiet", action="store_true", help="no console line per invocation")
    p.add_argument(
        "--log-max-mb",
        type=float,
        default=64.0,
        metavar="N",
        help="rotate STATE_DIR/handlers.log to handlers.log.1 past N MiB (0 = never)",
    )


def serve_settings(args: argparse.Namespace) -> GatewaySettings:
    """Validated `GatewaySettings` from parsed ``serve`` arguments."""
    return GatewaySettings(
        host=args.host,
        port=args.port,
        stage=args.stage,
        runtime=args.runtime,
        store=args.store,
        state_dir=args.state_dir,
        dynamodb_endpoint=args.dynamodb_endpoint,
        create_table=args.create_table,
        table=args.table,
        result_ttl_seconds=args.result_ttl,
        legacy_subscriptions=args.legacy_subscriptions,
        concurrency=args.concurrency,
        cold_start_ms=args.cold_start_ms,
        max_concurrency=args.max_concurrency,
        keep_warm_s=args.keep_warm,
        route_selection_expression=args.route_selection_expression,
        routes=_routes(args.route),
        frame_limit=args.frame_limit,
        message_limit=args.message_limit,
        idle_timeout_s=args.idle_timeout,
        max_duration_s=args.max_duration,
        integration_timeout_s=args.integration_timeout,
        drop_disconnect=args.drop_disconnect,
        post_410=args.post_410,
        post_429=args.post_429,
        post_latency_ms=args.post_latency_ms,
        quiet=args.quiet,
        log_max_bytes=int(args.log_max_mb * 2**20),
    ).validate()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``wsrelay`` command."""
    parser = _Parser(prog="wsrelay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve(sub)
    tools = {}
    for name, module_name in TOOLS.items():
        if importlib.util.find_spec(module_name.rpartition(".")[0]) is None:
            continue  # TODO(lead): drop this guard once every tool module exists
        tools[name] = module = importlib.import_module(module_name)
        module.add_arguments(sub.add_parser(name, help=module.HELP, description=module.HELP))
    package = sub.add_parser("package", help="build dist/wsrelay-lambda.zip")
    package.add_argument("--output", type=Path, default=Path("dist/wsrelay-lambda.zip"))
    sub.add_parser("prune-versions", help="delete old Lambda versions (see --help)", add_help=False)
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "prune-versions":
        from wsrelay.tools import prune_versions

        return prune_versions.main(argv[1:])
    args = parser.parse_args(argv)

    if args.command in tools:
        return int(tools[args.command].run(args))
    if args.command == "package":
        from wsrelay import package as packager

        return packager.main(["--output", str(args.output)])
    if args.command == "serve":
        from wsrelay.gateway.app import run

        try:
            settings = serve_settings(args)
            asyncio.run(run(settings, lambda line: print(line, flush=True)))
        except SettingsError as error:
            print(f"wsrelay serve: error: {error}", file=sys.stderr)
            return 2
        except OSError as error:
            print(f"wsrelay serve: error: cannot listen on {args.host}:{args.port}: {error}", file=sys.stderr)
            return 2
        return 0
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
