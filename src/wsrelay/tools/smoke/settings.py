"""Settings of `wsrelay smoke`, declared once with `wsrelay.cli.options`: each field is a flag
(and, but for the URL, a key of a ``--config`` TOML file) with its help, unit and check."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from wsrelay.cli.checks import check_url, parse_headers, resolve_token
from wsrelay.cli.endpoint import EndpointFlags, header_setting, token_file_setting, token_setting
from wsrelay.cli.options import check_units, positive, setting


@dataclass(frozen=True)
class SmokeSettings(EndpointFlags):
    """What `wsrelay smoke` is run with."""

    url: str = setting(
        dataclasses.MISSING,
        "the endpoint, ws:// or wss://, e.g. wss://ID.execute-api.REGION.amazonaws.com/prod",
        positional=True,
        metavar="URL",
    )
    timeout_s: float = setting(5.0, "time each step may take", unit="s", check=positive)
    header: tuple[str, ...] = header_setting()
    token: str | None = token_setting()
    token_file: Path | None = token_file_setting()  # noqa: RUF009 - a field()

    def validate(self) -> SmokeSettings:
        """The URL and the headers (`UsageError` naming the bad one); self."""
        check_url(self.url)
        parse_headers(self.header)
        resolve_token(self.token, self.token_file)
        return self


check_units(SmokeSettings)
