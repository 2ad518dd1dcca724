"""A subcommand of ``wsrelay``, registered the one way every subcommand is (`Command`), the
parser every subcommand gets (`Parser`) and how a command's failures become exit codes
(`execute`).

A command module exposes ``COMMAND = Command(...)`` and imports only the standard library and
its settings at the top: `wsrelay --help` imports every command module, so the libraries a
tool needs (rich, hdrhistogram, simpy, matplotlib) are imported inside `run`.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from wsrelay.cli.checks import CANNOT_RUN, USAGE, CannotRun, UsageError


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, its help, its flags and what runs it."""

    name: str
    summary: str  # one line, in `wsrelay --help`
    description: str  # plain text, in `wsrelay NAME --help`
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    extra: str = "local"  # the pip extra whose libraries `run` imports
    interrupted_exit: int = 130  # the exit status after Ctrl-C (serve: 0, a normal stop)


def add_json(parser: argparse.ArgumentParser, what: str) -> None:
    """``--json FILE`` (``-``: stdout, alone), the same in every tool that has a result."""
    parser.add_argument(
        "--json", type=Path, metavar="FILE", help=f"write {what} as JSON to FILE ('-': stdout, nothing else)"
    )


def add_plot(parser: argparse.ArgumentParser, what: str) -> None:
    """``--plot FILE.png``: one image, the same in every tool that plots."""
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help=f"write {what} to FILE.png")


def add_config(parser: argparse.ArgumentParser, what: str) -> None:
    """``--config FILE``: a TOML file of the same settings as the flags (flags win)."""
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"TOML file of {what}: keys are the flags' names with _ (flags win)",
    )


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``wsrelay CMD: error: ...``), exit status 2, and no
    abbreviated flags (``--egress`` is not ``--egress-gb-month``)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


def execute(command: Command, args: argparse.Namespace) -> int:
    """Run `command` on parsed `args`; its failures as exit codes, each with one line."""
    prefix = f"wsrelay {command.name}: error:"
    try:
        return int(command.run(args))
    except UsageError as error:
        print(f"{prefix} {error}", file=sys.stderr)
        return USAGE
    except CannotRun as error:
        print(f"{prefix} {error}", file=sys.stderr)
        return CANNOT_RUN
    except ModuleNotFoundError as error:
        if error.name is None or error.name.split(".")[0] == "wsrelay":
            raise
        print(
            f"{prefix} needs the {command.extra!r} extra (no module named {error.name!r}): "
            f"pip install -e '.[{command.extra}]' (make test installs every extra)",
            file=sys.stderr,
        )
        return CANNOT_RUN
    except KeyboardInterrupt:
        print(f"wsrelay {command.name}: interrupted", file=sys.stderr)
        return command.interrupted_exit
