"""Checks every subcommand shares: the usage error, URLs, headers, output paths, TOML files."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any


class UsageError(ValueError):
    """A flag, value or configuration file the command cannot use; the message names it."""


def parse_headers(specs: list[str]) -> dict[str, str]:
    """``NAME: VALUE`` strings as a dict; ValueError naming the first bad one."""
    headers: dict[str, str] = {}
    for spec in specs:
        name, sep, value = spec.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise ValueError(f"--header {spec!r}: expected 'NAME: VALUE'")
        headers[name.strip()] = value.strip()
    return headers


def check_url(url: str) -> None:
    """ValueError unless `url` is a ws:// or wss:// URL with a host."""
    scheme, sep, rest = url.partition("://")
    if scheme not in ("ws", "wss") or not sep:
        raise ValueError(f"URL {url!r}: expected ws:// or wss://")
    if not rest or rest.startswith(("/", ":")):
        raise ValueError(f"URL {url!r}: no host")


def check_output(path: Path | None, flag: str) -> None:
    """ValueError unless `path` (an output file) can be created: its folder exists and it is
    not itself a folder."""
    if path is None:
        return
    if path.is_dir():
        raise ValueError(f"{flag} {path}: is a folder, expected a file")
    if not path.parent.is_dir():
        raise ValueError(f"{flag} {path}: folder {path.parent} does not exist")


def load_toml(path: Path) -> dict[str, Any]:
    """The key/value table of a TOML inputs file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"{path} is not valid TOML: {error}") from None
