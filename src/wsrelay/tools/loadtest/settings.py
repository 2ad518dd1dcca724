"""Settings of `wsrelay loadtest` (`LoadSettings`) and `wsrelay loadtest-merge`
(`MergeSettings`), declared once with `wsrelay.cli.options`: each field is a flag (and, but for
the URL, a key of a ``--config`` TOML file) with its help, unit and check.

``--max-p99-ms`` is declared once (`max_p99_ms_setting`) for both commands, so both judge it
with the same check. Only the standard library and the command-line kit are imported at the top:
``wsrelay loadtest --help`` works without the ``tools`` extra.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wsrelay.cli.checks import UsageError, check_url, parse_headers, resolve_token
from wsrelay.cli.endpoint import EndpointFlags, header_setting, token_file_setting, token_setting
from wsrelay.cli.options import all_of, at_least, between, check_units, positive, setting
from wsrelay.tools.loadtest.schedule import ARRIVALS

if TYPE_CHECKING:
    from wsrelay.tools.loadtest.payloads import SizeRange

DEFAULT_RATE = 100.0
DEFAULT_SIZES = "1K-8K:90,8K-31K:10"
DEFAULT_SIZES_WITH_S3 = "1K-8K:89,8K-31K:10,32K-256K:1"
MAX_DURATION_S = 24 * 3600.0
MAX_RATE = 100_000.0
# --enqueue-delay-ms and --grace-s lengthen the run: keep them bounded.
MAX_ENQUEUE_DELAY_MS = 3600_000.0
MAX_GRACE_S = 3600.0
PROGRESS = ("auto", "on", "off")


def _rate(value: float | None) -> str | None:
    if value is not None and positive(value) is None and value > MAX_RATE:
        return (
            f"must be at most {MAX_RATE:g} jobs/s per run (one generator process sustains a few "
            "thousand; run several machines and merge with wsrelay loadtest-merge)"
        )
    return positive(value)


def _http_url(value: str | None) -> str | None:
    ok = value is None or value.startswith(("http://", "https://"))
    return None if ok else "must be an http:// or https:// URL"


def max_p99_ms_setting() -> Any:
    """``--max-p99-ms``, the same field in `LoadSettings` and `MergeSettings`: one check."""
    return setting(
        None,
        "exit 1 if the publish -> deliver p99 exceeds this bound",
        unit="ms",
        check=positive,
    )


@dataclass(frozen=True)
class LoadSettings(EndpointFlags):
    """What `wsrelay loadtest` is run with."""

    url: str = setting(dataclasses.MISSING, "the endpoint, ws:// or wss://", positional=True, metavar="URL")
    rate: float | None = setting(
        None,
        "open loop: jobs per second, due at times fixed in advance (unless --pairs)",
        unit="jobs/s",
        check=_rate,
        metavar="R",
        shown_default=f"{DEFAULT_RATE:g}",
    )
    pairs: int | None = setting(
        None,
        "closed loop instead: N jobs in flight, each starting when one ends",
        check=at_least(1),
    )
    duration_s: float = setting(
        10.0, "how long the load runs", unit="s", check=all_of(positive, between(0, MAX_DURATION_S))
    )
    grace_s: float = setting(
        10.0,
        "then how long to wait for late results and acks before they count as lost",
        unit="s",
        check=between(0, MAX_GRACE_S),
    )
    enqueue_delay_ms: float = setting(
        50.0,
        "subscribe -> publish (the router subscribes this long before it enqueues)",
        unit="ms",
        check=between(0, MAX_ENQUEUE_DELAY_MS),
    )
    routers: int = setting(4, "router (subscriber) connections", check=at_least(1))
    workers: int = setting(16, "worker (publisher) connections", check=at_least(1))
    sizes: str | None = setting(
        None,
        "result sizes, LOW-HIGH:WEIGHT,... in bytes (K: KiB)",
        metavar="SPEC",
        shown_default=f"{DEFAULT_SIZES}; with S3 {DEFAULT_SIZES_WITH_S3}",
    )
    s3_endpoint: str | None = setting(
        None, "S3 endpoint for results over 31 KiB (e.g. moto's server)", check=_http_url, metavar="URL"
    )
    s3_bucket: str | None = setting(None, "bucket for results over 31 KiB (must exist)", metavar="BUCKET")
    s3_prefix: str = setting("cache/", "key prefix in the bucket", metavar="PREFIX")
    arrivals: str = setting("uniform", "open-loop gaps: equal, or poisson (from --seed)", choices=ARRIVALS)
    seed: int = setting(1, "seed of the result sizes and the poisson arrivals")
    processes: int = setting(
        1, "generator processes on this machine, their reports merged", check=at_least(1)
    )
    max_p99_ms: float | None = max_p99_ms_setting()
    progress: str = setting(
        "auto", "a live progress bar on stderr (auto: when stderr is a terminal)", choices=PROGRESS
    )
    header: tuple[str, ...] = header_setting()
    token: str | None = token_setting()
    token_file: Path | None = token_file_setting()  # noqa: RUF009 - a field()

    @property
    def open_loop_rate(self) -> float | None:
        """The open loop's rate (the default one unless ``--pairs``); None in closed loop."""
        if self.pairs is not None:
            return None
        return DEFAULT_RATE if self.rate is None else self.rate

    def size_ranges(self) -> list[SizeRange]:
        """``--sizes`` (or its default, with or without S3) as ranges; `UsageError` if bad."""
        from wsrelay.tools.loadtest.payloads import parse_sizes

        spec = self.sizes or (DEFAULT_SIZES_WITH_S3 if self.s3_bucket else DEFAULT_SIZES)
        try:
            return parse_sizes(spec)
        except ValueError as error:
            raise UsageError(str(error)) from None

    def validate(self) -> LoadSettings:
        """The checks across flags (each flag's own check ran already): `UsageError`; self."""
        from wsrelay.tools.loadtest.payloads import needs_s3

        check_url(self.url)
        parse_headers(self.header)
        resolve_token(self.token, self.token_file)
        if self.rate is not None and self.pairs is not None:
            raise UsageError("--rate and --pairs: give one (open loop or closed loop), not both")
        if (self.s3_endpoint is None) != (self.s3_bucket is None):
            raise UsageError("--s3-endpoint and --s3-bucket go together")
        if needs_s3(self.size_ranges()) and self.s3_bucket is None:
            raise UsageError("--sizes over 31 KiB travel via S3: give --s3-endpoint and --s3-bucket")
        return self


@dataclass(frozen=True)
class MergeSettings:
    """What `wsrelay loadtest-merge` is run with, besides its reports and outputs."""

    max_p99_ms: float | None = max_p99_ms_setting()


check_units(LoadSettings)
check_units(MergeSettings)
