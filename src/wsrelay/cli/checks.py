"""What every subcommand shares: the exit codes and the two errors that map onto them, and the
checks of URLs, headers, input files, output paths and TOML files.

Exit codes (README, "Command line"):

| exit | meaning |
|---|---|
| 0 | success |
| 1 | the check or measurement failed (a smoke step; loadtest lost, unacked or over its bound) |
| 2 | usage only: bad flag, bad value, bad config file (`UsageError`) |
| 3 | could not run: endpoint unreachable, port in use, output not writable, extra not |
|   | installed, AWS unreachable (`CannotRun`) |
| 130 | interrupted (Ctrl-C) |
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

OK = 0
FAILED = 1
USAGE = 2
CANNOT_RUN = 3
INTERRUPTED = 130


class UsageError(ValueError):
    """A flag, value or configuration file the command cannot use; the message names it."""


class CannotRun(RuntimeError):
    """The command was used correctly but cannot run: an endpoint, a port, a file, AWS."""


def parse_headers(specs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``NAME: VALUE`` strings as a dict; `UsageError` naming the first bad one."""
    headers: dict[str, str] = {}
    for spec in specs:
        name, sep, value = spec.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise UsageError(f"--header {spec!r}: expected 'NAME: VALUE'")
        headers[name.strip()] = value.strip()
    return headers


def check_url(url: str) -> None:
    """`UsageError` unless `url` is a ws:// or wss:// URL with a host."""
    scheme, sep, rest = url.partition("://")
    if scheme not in ("ws", "wss") or not sep:
        raise UsageError(f"URL {url!r}: expected ws:// or wss://")
    if not rest or rest.startswith(("/", ":")):
        raise UsageError(f"URL {url!r}: no host")


def check_output(path: Path | None, flag: str, suffix: str | None = None) -> None:
    """`UsageError` unless `path` (an output file; ``-`` is stdout) can be created: its folder
    exists (it is never created), it is not a folder, and it ends in `suffix` when one is asked.
    Run before any work, so a long run never ends on an unwritable path."""
    if path is None or (str(path) == "-" and suffix is None):
        return
    if suffix is not None and path.suffix.lower() != suffix:
        raise UsageError(f"{flag} {path}: expected a FILE{suffix}")
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder, expected a file")
    if not path.parent.is_dir():
        raise UsageError(f"{flag} {path}: folder {path.parent} does not exist")


def check_input(path: Path | None, flag: str) -> None:
    """`UsageError` unless `path` (an input file) exists and is a file."""
    if path is None:
        return
    if not path.exists():
        raise UsageError(f"{flag} {path}: no such file")
    if not path.is_file():
        raise UsageError(f"{flag} {path}: not a file")


def resolve_token(token: str | None, token_file: Path | None) -> str | None:
    """The token of ``--token`` or ``--token-file`` (its first line; a file keeps it out of the
    process list and the shell's history); `UsageError` for both, an empty one or a bad file."""
    if token is not None and token_file is not None:
        raise UsageError("--token and --token-file: give one, not both")
    if token_file is not None:
        check_input(token_file, "--token-file")
        try:
            lines = token_file.read_text(encoding="utf-8").strip().splitlines()
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise UsageError(f"--token-file {token_file}: cannot read: {reason}") from None
        token = lines[0].strip() if lines else ""
        if not token:
            raise UsageError(f"--token-file {token_file}: holds no token")
    elif token is not None and not token.strip():
        raise UsageError("--token must not be empty")
    return token.strip() if token is not None else None


def load_toml(path: Path) -> dict[str, Any]:
    """The key/value table of a TOML file; `UsageError` saying what is wrong with it."""
    check_input(path, "--config")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"--config {path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise UsageError(f"--config {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"--config {path}: not valid TOML: {error}") from None
