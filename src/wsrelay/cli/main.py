"""The ``wsrelay`` command: ``serve`` (the local stack), ``package`` (the Lambda zip),
``prune-versions`` (old Lambda versions) and the operator tools (``TOOLS``).

Every subcommand validates its flags first and exits with status 2 and a one-line message that
names the bad flag, before doing anything.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from wsrelay.local import settings
from wsrelay.local.settings import SettingsError

# Operator tools: subcommand -> (module, one-line help, the extra with its libraries). The
# module exposes ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``; only the chosen
# command's module is imported, so ``wsrelay serve`` (and ``--help``) never load the tools'
# libraries.
TOOLS = {
    "smoke": (
        "wsrelay.tools.smoke.command",
        "check a relay endpoint step by step (PASS/FAIL per step)",
        "local",
    ),
    "loadtest": ("wsrelay.tools.loadtest.command", "load a relay endpoint with router/worker jobs", "tools"),
    "loadtest-merge": (
        "wsrelay.tools.loadtest.merge_command",
        "merge wsrelay loadtest --json reports",
        "tools",
    ),
    "cost": (
        "wsrelay.tools.cost.command",
        "monthly cost of each deployment (provisioned, LMI, on demand)",
        "sim",
    ),
    "simulate": (
        "wsrelay.tools.simulate.command",
        "simulate the pipeline under each compute mode and relay",
        "sim",
    ),
}


class MissingExtra(Exception):
    """A tool's library is not installed (``make serve`` installs the ``local`` extra only)."""


def _run_tool(module: Any, args: argparse.Namespace) -> int:
    try:
        return int(module.run(args))
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] == "wsrelay":
            raise
        raise MissingExtra(f"No module named {error.name!r}") from None


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``wsrelay CMD: error: ...``) and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def add_serve(sub: argparse._SubParsersAction[Any]) -> None:
    parser = sub.add_parser(
        "serve",
        help="run the local stack (API Gateway WebSocket emulator + the real handlers)",
        description="Run the local API Gateway WebSocket emulator with the real wsrelay handlers.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    settings.add_arguments(parser)


def serve(args: argparse.Namespace) -> int:
    """``wsrelay serve``: exit status 2 and one line naming what failed when it cannot start."""
    from wsrelay.local.app import run

    try:
        asyncio.run(run(settings.from_arguments(args), lambda line: print(line, flush=True)))
    except SettingsError as error:
        print(f"wsrelay serve: error: {error}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``wsrelay`` command."""
    parser = _Parser(prog="wsrelay", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    add_serve(sub)
    if argv is None:
        argv = sys.argv[1:]
    tools = {}
    for name, (module_name, summary, extra) in TOOLS.items():
        parser_of_tool = sub.add_parser(name, help=summary, description=summary)
        if argv[:1] == [name]:
            try:
                tools[name] = module = importlib.import_module(module_name)
            except ModuleNotFoundError as error:
                return _missing_extra(name, extra, f"No module named {error.name!r}")
            parser_of_tool.description = module.HELP
            module.add_arguments(parser_of_tool)
    package = sub.add_parser("package", help="build dist/wsrelay-lambda.zip")
    package.add_argument("--output", type=Path, default=Path("dist/wsrelay-lambda.zip"))
    sub.add_parser("prune-versions", help="delete old Lambda versions (see --help)", add_help=False)
    if argv and argv[0] == "prune-versions":
        from wsrelay.tools import prune_versions

        return prune_versions.main(argv[1:])
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the subcommand's parser: "wsrelay serve: error: ..."
        sub.choices[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")

    if args.command in tools:
        try:
            return _run_tool(tools[args.command], args)
        except MissingExtra as error:
            return _missing_extra(args.command, TOOLS[args.command][2], str(error))
    if args.command == "package":
        from wsrelay import package as packager

        return packager.main(["--output", str(args.output)])
    if args.command == "serve":
        return serve(args)
    return 2  # pragma: no cover - argparse rejects unknown commands


def _missing_extra(command: str, extra: str, detail: str) -> int:
    print(
        f"wsrelay {command}: error: needs the {extra!r} extra ({detail}): "
        f"pip install -e '.[{extra}]' (make test installs every extra)",
        file=sys.stderr,
    )
    return 2


def entry() -> int:
    """The console script: `main`, quiet when its reader goes away (``wsrelay cost | head``)."""
    try:
        return main()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
        return 1


if __name__ == "__main__":
    sys.exit(entry())
