"""The ``wsrelay`` command: every subcommand registered the same way (`COMMANDS`), one exit-code
convention (`wsrelay.cli.checks`), no abbreviated flags, ``--version``.

Usage errors exit 2 with one line naming the flag; a command that cannot run (an endpoint, a
port, a file, a missing extra) exits 3; Ctrl-C exits 130 without a traceback (serve: 0).
"""

from __future__ import annotations

import importlib
import os
import sys

import wsrelay
from wsrelay.cli.command import Command, Parser, execute

# The modules that declare a subcommand (``COMMAND``), in the order `wsrelay --help` lists them.
COMMANDS = (
    "wsrelay.local.command",
    "wsrelay.tools.smoke.command",
    "wsrelay.tools.loadtest.command",
    "wsrelay.tools.loadtest.merge_command",
    "wsrelay.tools.cost.command",
    "wsrelay.tools.simulate.command",
    "wsrelay.tools.prune_versions",
    "wsrelay.tools.token",
    "wsrelay.package",
)

DESCRIPTION = """\
wsrelay: a result relay for API Gateway WebSocket APIs on AWS Lambda, and its local stack.

Run `wsrelay COMMAND --help` for a command's flags. Exit status: 0 success, 1 the check or
measurement failed, 2 usage error, 3 could not run, 130 interrupted."""


def commands() -> list[Command]:
    """Every subcommand, from its module's ``COMMAND``."""
    return [importlib.import_module(name).COMMAND for name in COMMANDS]


def build_parser() -> Parser:
    """The whole command line."""
    parser = Parser(prog="wsrelay", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"wsrelay {wsrelay.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for command in commands():
        child = sub.add_parser(command.name, help=command.summary, description=command.description)
        command.add_arguments(child)
        child.set_defaults(command_=command, parser_=child)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse, run the chosen command and map its failures onto the exit codes."""
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:  # said by the subcommand's parser: "wsrelay serve: error: ..."
        args.parser_.error(f"unrecognized arguments: {' '.join(unknown)}")
    return execute(args.command_, args)


def entry() -> int:
    """The console script: `main`, quiet when its reader goes away (``wsrelay cost | head``) and
    after a Ctrl-C that lands before a command runs (exit 130)."""
    try:
        return main()
    except KeyboardInterrupt:
        return 0 if sys.argv[1:2] == ["serve"] else 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit's flush
        return 1


if __name__ == "__main__":
    sys.exit(entry())
