"""Settings of `wsrelay smoke`, declared once with `wsrelay.cli.options`: each field is a flag
(and, but for the URL, a key of a ``--config`` TOML file) with its help, unit and check."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from wsrelay.cli.checks import check_url, parse_headers, resolve_token
from wsrelay.cli.options import check_units, positive, setting


@dataclass(frozen=True)
class SmokeSettings:
    """What `wsrelay smoke` is run with."""

    url: str = setting(
        dataclasses.MISSING,
        "the endpoint, ws:// or wss://, e.g. wss://ID.execute-api.REGION.amazonaws.com/prod",
        positional=True,
        metavar="URL",
    )
    timeout_s: float = setting(5.0, "time each step may take", unit="s", check=positive)
    header: tuple[str, ...] = setting(
        (),
        "extra header on every upgrade request; repeatable",
        repeatable=True,
        metavar="'NAME: VALUE'",
    )
    token: str | None = setting(
        None,
        "the $connect authorizer's token, sent as ?token= on every connection (see wsrelay token); "
        "--token-file keeps it out of the process list",
        metavar="TOKEN",
        toml=False,
    )
    token_file: Path | None = setting(None, "read --token from the first line of FILE", metavar="FILE")  # noqa: RUF009

    @property
    def headers(self) -> dict[str, str]:
        """``--header`` as a dict."""
        return parse_headers(self.header)

    @property
    def bearer_token(self) -> str | None:
        """``--token`` or the first line of ``--token-file`` (None: no token)."""
        return resolve_token(self.token, self.token_file)

    def validate(self) -> SmokeSettings:
        """The URL and the headers (`UsageError` naming the bad one); self."""
        check_url(self.url)
        parse_headers(self.header)
        resolve_token(self.token, self.token_file)
        return self


check_units(SmokeSettings)
