"""``wsrelay token``: print a token for the ``$connect`` authorizer, alone on one line.

``wsrelay token --secret-file F --role publisher|subscriber|both --ttl DURATION [--sub S]``
signs an HS256 JWT with the current secret of F (line 1; the format ``wsrelay serve
--auth-secret-file`` and ``WSRELAY_AUTH_SECRET_FILE`` read). ``--ttl`` carries its unit in
its value (``1s``, ``15m``, ``24h``, ``7d``), so its name does not. Bad input exits 2.
Only the standard library and the command-line kit are imported here; `wsrelay.auth` (and
PyJWT) when the command runs.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

from wsrelay.cli import options
from wsrelay.cli.checks import OK, UsageError, check_input
from wsrelay.cli.command import Command
from wsrelay.roles import ROLES

DESCRIPTION = """\
Print an HS256 JWT for the $connect authorizer, alone on one line: claims role, exp (now +
--ttl), iat and, with --sub, sub. It is signed with line 1 of --secret-file, the current secret
(the file wsrelay serve --auth-secret-file and WSRELAY_AUTH_SECRET_FILE read). Clients send it
as ?token= on the URL (--token-file in smoke and loadtest).

Exit status: 0 printed, 2 usage error (a bad flag, no such secret file, a secret under 32 bytes)."""
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(text: str) -> float:
    """``1s``, ``15m``, ``24h``, ``7d`` (a positive number and its unit) in seconds."""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"expected a number and a unit (s, m, h, d), e.g. 15m or 7d, got {text!r}")
    seconds = float(match.group(1)) * UNITS[match.group(2)]
    if seconds < 1:
        raise ValueError(f"must be at least 1s, got {text!r}")
    return seconds


parse_duration.__name__ = "duration"


def _subject(value: str | None) -> str | None:
    return None if value is None or value.strip() else "must not be empty"


@dataclass(frozen=True)
class TokenSettings:
    """What `wsrelay token` is run with."""

    secret_file: Path = options.setting(  # noqa: RUF009 - a field()
        dataclasses.MISSING,
        "the file of HS256 secrets; line 1, the current one, signs",
        metavar="FILE",
        required=True,
        toml=False,
    )
    role: str = options.setting(
        dataclasses.MISSING, "what the token may do", choices=ROLES, required=True, toml=False
    )
    ttl: float = options.setting(
        dataclasses.MISSING,
        "how long the token is valid: a number and its unit, 1s, 15m, 24h, 7d",
        parse=parse_duration,
        metavar="DURATION",
        required=True,
        toml=False,
    )
    sub: str | None = options.setting(
        None,
        "the token's subject (sub claim): who holds it, logged by the authorizer",
        check=_subject,
        metavar="S",
        toml=False,
    )

    def validate(self) -> TokenSettings:
        """The secret file exists and holds a usable secret (`UsageError` naming it); self."""
        check_input(self.secret_file, "--secret-file")
        return self


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every `TokenSettings` field."""
    options.add_arguments(parser, TokenSettings)


def run(args: argparse.Namespace) -> int:
    """Print the token alone on one line of stdout."""
    settings = options.build(TokenSettings, args)
    from wsrelay.auth.settings import read_secret_file
    from wsrelay.auth.tokens import issue
    from wsrelay.config import ConfigError

    try:
        secrets = read_secret_file(settings.secret_file, "--secret-file")
    except ConfigError as error:
        raise UsageError(str(error)) from None
    print(issue(secrets[0], settings.role, settings.ttl, settings.sub))
    return OK


COMMAND = Command(
    name="token",
    summary="print a token for the $connect authorizer (HS256 JWT: role, exp, sub)",
    description=DESCRIPTION,
    add_arguments=add_arguments,
    run=run,
)
