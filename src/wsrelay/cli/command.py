"""A subcommand of ``wsrelay``, registered the one way every subcommand is (`Command`).

A command module exposes ``COMMAND = Command(...)`` and imports only the standard library and
its settings at the top: `wsrelay --help` imports every command module, so the libraries a
tool needs (rich, hdrhistogram, simpy, matplotlib) are imported inside `run`.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


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
