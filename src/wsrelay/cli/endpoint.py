"""What every tool that connects to a relay endpoint takes beside its URL: upgrade headers and
the `$connect` authorizer's token, declared once (`header_setting`, `token_setting`,
`token_file_setting`) and read the same way (`EndpointFlags`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wsrelay.cli.checks import parse_headers, resolve_token
from wsrelay.cli.options import setting


def header_setting() -> Any:
    """``--header 'NAME: VALUE'``, repeatable."""
    return setting(
        (), "extra header on every upgrade request; repeatable", repeatable=True, metavar="'NAME: VALUE'"
    )


def token_setting() -> Any:
    """``--token TOKEN`` (a flag only: a token does not belong in a config file)."""
    return setting(
        None,
        "the $connect authorizer's token, sent as ?token= on every connection (see wsrelay token); "
        "--token-file keeps it out of the process list",
        metavar="TOKEN",
        toml=False,
    )


def token_file_setting() -> Any:
    """``--token-file FILE``."""
    return setting(None, "read --token from the first line of FILE", metavar="FILE")


class EndpointFlags:
    """The headers and token of a settings dataclass declaring `header`, `token`, `token_file`."""

    header: tuple[str, ...]
    token: str | None
    token_file: Path | None

    @property
    def headers(self) -> dict[str, str]:
        """``--header`` as a dict."""
        return parse_headers(self.header)

    @property
    def bearer_token(self) -> str | None:
        """``--token`` or the first line of ``--token-file`` (None: no token)."""
        return resolve_token(self.token, self.token_file)
