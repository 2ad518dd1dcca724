"""``wsrelay loadtest URL``: flags, validation, the run (one or N processes), table, JSON, plot.

Exit status: 0 when every job was delivered and acked within ``--max-p99-ms``; 1 when something
was lost, unacked or corrupted, or p99 exceeded the bound; 2 for bad flags or an endpoint (relay
or S3) that cannot be reached, reported at once in one line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import secrets
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from wsrelay.cli.checks import UsageError, check_output, check_url, parse_headers
from wsrelay.client import ConnectError, S3Config
from wsrelay.tools.loadtest.generator import Generator, LoadSpec
from wsrelay.tools.loadtest.payloads import DEFAULT_SIZES, DEFAULT_SIZES_WITH_S3, needs_s3, parse_sizes
from wsrelay.tools.loadtest.progress import LiveProgress, Snapshot, wanted
from wsrelay.tools.loadtest.report import render
from wsrelay.tools.loadtest.schedule import ARRIVALS
from wsrelay.tools.loadtest.tally import Tally

HELP = "load a relay endpoint with router/worker jobs (open or closed loop); latency, throughput, losses"
MAX_DURATION_S = 24 * 3600.0
MAX_RATE = 100_000.0
MAX_DELAY_MS = 3600_000.0  # --enqueue-delay-ms and --grace lengthen the run: keep it bounded


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``wsrelay loadtest``."""
    parser.add_argument("url", help="ws:// or wss:// endpoint")
    load = parser.add_mutually_exclusive_group()
    load.add_argument("--rate", type=float, help="open loop: jobs per second (default 100)")
    load.add_argument("--pairs", type=int, help="closed loop: N jobs in flight, each starting when one ends")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load (default 10)")
    parser.add_argument("--routers", type=int, default=4, help="router connections (default 4)")
    parser.add_argument("--workers", type=int, default=16, help="worker connections (default 16)")
    parser.add_argument(
        "--enqueue-delay-ms",
        type=float,
        default=50.0,
        help="subscribe -> publish (default 50, as the router)",
    )
    parser.add_argument(
        "--sizes",
        help=f"result sizes LOW-HIGH:WEIGHT,... (default {DEFAULT_SIZES}; with S3 {DEFAULT_SIZES_WITH_S3})",
    )
    parser.add_argument("--s3-endpoint", help="S3 endpoint URL for results over 31 KiB (e.g. moto's server)")
    parser.add_argument("--s3-bucket", help="bucket for results over 31 KiB (must exist)")
    parser.add_argument("--s3-prefix", default="cache/", help="key prefix (default cache/)")
    parser.add_argument(
        "--grace", type=float, default=10.0, help="seconds to wait for stragglers (default 10)"
    )
    parser.add_argument(
        "--arrivals", choices=ARRIVALS, default="uniform", help="open-loop gaps (default uniform)"
    )
    parser.add_argument("--seed", type=int, default=1, help="sizes and poisson arrivals (default 1)")
    parser.add_argument("--processes", type=int, default=1, help="generator processes on this machine")
    parser.add_argument("--max-p99-ms", type=float, help="exit 1 if publish -> deliver p99 exceeds this")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the report (with histograms)")
    parser.add_argument(
        "--plot", type=Path, metavar="FILE.png", help="latency over time, distribution, throughput"
    )
    parser.add_argument(
        "--progress", choices=("auto", "on", "off"), default="auto", help="live bar on stderr"
    )
    parser.add_argument(
        "--header", action="append", default=[], metavar="'NAME: VALUE'", help="upgrade header"
    )


def spec_from(args: argparse.Namespace) -> LoadSpec:
    """A validated `LoadSpec`; `UsageError` naming the first bad flag."""
    try:
        check_url(args.url)
        headers = parse_headers(args.header)
        check_output(args.json, "--json")
        check_output(args.plot, "--plot")
    except ValueError as error:
        raise UsageError(str(error)) from None
    for flag, number in (
        ("--rate", args.rate),
        ("--duration", args.duration),
        ("--enqueue-delay-ms", args.enqueue_delay_ms),
        ("--grace", args.grace),
        ("--max-p99-ms", args.max_p99_ms),
    ):
        if number is not None and math.isinf(number):
            raise UsageError(f"{flag} {number:g}: must be a finite number")
    rate = args.rate if args.rate is not None or args.pairs is not None else 100.0
    _positive("--rate", rate)
    if rate is not None and rate > MAX_RATE:
        raise UsageError(
            f"--rate {rate:g}: at most {MAX_RATE:g} jobs/s per run (one generator process sustains a "
            "few thousand; run several machines and merge with wsrelay loadtest-merge)"
        )
    _positive("--pairs", args.pairs)
    _positive("--duration", args.duration)
    if args.duration > MAX_DURATION_S:
        raise UsageError(f"--duration {args.duration:g}: at most {MAX_DURATION_S:g} s")
    for flag, value in (
        ("--routers", args.routers),
        ("--workers", args.workers),
        ("--processes", args.processes),
    ):
        if value < 1:
            raise UsageError(f"{flag} {value}: must be at least 1")
    for flag, value in (("--enqueue-delay-ms", args.enqueue_delay_ms), ("--grace", args.grace)):
        if not value >= 0:
            raise UsageError(f"{flag} {value:g}: must be 0 or more")
    if args.enqueue_delay_ms > MAX_DELAY_MS or args.grace * 1000.0 > MAX_DELAY_MS:
        raise UsageError(f"--enqueue-delay-ms and --grace: at most {MAX_DELAY_MS / 1000.0:g} s each")
    _positive("--max-p99-ms", args.max_p99_ms)
    s3 = _s3(args)
    try:
        sizes = parse_sizes(args.sizes or (DEFAULT_SIZES_WITH_S3 if s3 else DEFAULT_SIZES))
    except ValueError as error:
        raise UsageError(str(error)) from None
    if needs_s3(sizes) and s3 is None:
        raise UsageError("--sizes over 31 KiB travel via S3: give --s3-endpoint and --s3-bucket")
    return LoadSpec(
        url=args.url,
        duration_s=args.duration,
        rate=None if args.pairs is not None else rate,
        pairs=args.pairs,
        routers=args.routers,
        workers=args.workers,
        enqueue_delay_s=args.enqueue_delay_ms / 1000.0,
        sizes=tuple(sizes),
        seed=args.seed,
        arrivals=args.arrivals,
        grace_s=args.grace,
        headers=headers,
        s3=s3,
        run_id=secrets.token_hex(3),
    )


def _positive(flag: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise UsageError(f"{flag} {value:g}: must be positive")


def _s3(args: argparse.Namespace) -> S3Config | None:
    if (args.s3_endpoint is None) != (args.s3_bucket is None):
        raise UsageError("--s3-endpoint and --s3-bucket go together")
    if args.s3_bucket is None:
        return None
    if not args.s3_endpoint.startswith(("http://", "https://")):
        raise UsageError(f"--s3-endpoint {args.s3_endpoint!r}: expected http:// or https://")
    return S3Config(bucket=args.s3_bucket, prefix=args.s3_prefix, endpoint_url=args.s3_endpoint)


def check_bucket(s3: S3Config) -> None:
    """`UsageError` unless the bucket answers (a missing bucket or endpoint fails before the run)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = Config(connect_timeout=5, read_timeout=5, retries={"total_max_attempts": 2})
    client = boto3.session.Session().client("s3", endpoint_url=s3.endpoint_url, config=config)
    try:
        client.head_bucket(Bucket=s3.bucket)
    except (BotoCoreError, ClientError) as error:
        raise UsageError(f"S3 bucket {s3.bucket} at {s3.endpoint_url}: {error}") from None


def execute(spec: LoadSpec, processes: int, progress: LiveProgress) -> dict[str, Any]:
    """Run the load (in this process or in `processes` children); the report."""
    if processes > 1:
        from wsrelay.tools.loadtest.processes import GeneratorFailed, run_processes

        try:
            return run_processes(spec, processes, progress.show)
        except GeneratorFailed as error:
            raise ConnectError(str(error)) from None

    def tick(tally: Tally) -> None:
        progress.show(
            Snapshot(tally.sent, tally.delivered, tally.acked, tally.publish_failures + tally.corrupted)
        )

    return asyncio.run(Generator(spec, tick if progress.enabled else None).run())


def verdict(report: dict[str, Any], max_p99_ms: float | None) -> list[str]:
    """Why the run failed (empty when it passed)."""
    problems = [f"{report[key]} {key}" for key in ("lost", "unacked", "corrupted") if report[key]]
    if max_p99_ms is not None and report["p99_ms"] > max_p99_ms:
        problems.append(f"p99 {report['p99_ms']:.1f} ms > --max-p99-ms {max_p99_ms:g}")
    return problems


def run(args: argparse.Namespace) -> int:
    """``wsrelay loadtest``: 0 passed, 1 lost/unacked/too slow, 2 bad flags or unreachable."""
    try:
        spec = spec_from(args)
        if spec.s3 is not None:
            check_bucket(spec.s3)
    except UsageError as error:
        print(f"wsrelay loadtest: error: {error}", file=sys.stderr)
        return 2
    try:
        with LiveProgress(spec.duration_s, wanted(args.progress)) as progress:
            report = execute(spec, args.processes, progress)
    except ConnectError as error:
        print(f"wsrelay loadtest: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("wsrelay loadtest: interrupted, no report", file=sys.stderr)
        return 130
    return conclude(report, args.json, args.plot, args.max_p99_ms)


def conclude(
    report: dict[str, Any], json_path: Path | None, plot_path: Path | None, max_p99_ms: float | None
) -> int:
    """Table, JSON and plot of a finished (or merged) run; its exit status."""
    console = Console()
    render(report, console)
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=1) + "\n")
    if plot_path is not None:
        from wsrelay.tools.loadtest.plot import plot

        plot(report, plot_path)
    problems = verdict(report, max_p99_ms)
    if problems:
        console.print(f"FAILED: {', '.join(problems)}", style="bold red", highlight=False)
        return 1
    console.print("PASSED: nothing lost, every job acked", style="bold green", highlight=False)
    return 0
