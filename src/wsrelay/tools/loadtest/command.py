"""``wsrelay loadtest URL``: the subcommand (flags from `LoadSettings`) and its run, in this
process or in ``--processes N``.

Exit status: 0 when every job was delivered and acked (within ``--max-p99-ms`` if given); 1 when
something was lost, unacked or corrupted, or p99 exceeded the bound; 2 for bad flags; 3 when it
cannot run: the endpoint cannot be reached (reported within 10 s), the S3 bucket cannot be
reached, an output cannot be written; 130 on Ctrl-C, in one line, whenever it lands. Only the
standard library and the command-line kit are imported here: the generator, hdrhistogram and
matplotlib are imported when the command runs.
"""

from __future__ import annotations

import argparse
import secrets
from typing import TYPE_CHECKING, Any

from wsrelay.cli import options
from wsrelay.cli.checks import CannotRun, check_output
from wsrelay.cli.command import Command, add_config, add_json, add_plot
from wsrelay.tools.loadtest.settings import LoadSettings

if TYPE_CHECKING:
    from wsrelay.client import S3Config
    from wsrelay.tools.loadtest.generator import LoadSpec
    from wsrelay.tools.loadtest.progress import LiveProgress

DESCRIPTION = """\
Load a relay endpoint with jobs as the router and the workers run them: subscribe; publish after
the enqueue delay; receive, ack and unsubscribe; the ack reaches the worker. Open loop (--rate,
arrivals fixed in advance, latency from the intended time) or closed loop (--pairs). Reports
sent, delivered, acked, lost, unacked, errors, reconnects and latency percentiles (HdrHistogram);
--json keeps the histograms, for wsrelay loadtest-merge.

Exit status: 0 nothing lost, unacked or corrupted (and p99 within --max-p99-ms), 1 otherwise,
2 usage error, 3 could not run (endpoint or S3 bucket unreachable, output not writable),
130 interrupted. With --json -, stdout holds the JSON only; tables and progress go to stderr."""

PNG = ".png"
STATS_TIMEOUT_S = 2.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every `LoadSettings` field, ``--json``, ``--plot`` and ``--config``."""
    options.add_arguments(parser, LoadSettings)
    add_json(parser, "the report (with its histograms)")
    add_plot(parser, "latency over time, the latency distribution and throughput")
    add_config(parser, "loadtest's settings")


def load_spec(settings: LoadSettings) -> LoadSpec:
    """What the generators run, from validated settings."""
    from wsrelay.client import S3Config
    from wsrelay.tools.loadtest.generator import LoadSpec

    s3 = None
    if settings.s3_bucket is not None:
        s3 = S3Config(bucket=settings.s3_bucket, prefix=settings.s3_prefix, endpoint_url=settings.s3_endpoint)
    return LoadSpec(
        url=settings.url,
        duration_s=settings.duration_s,
        rate=settings.open_loop_rate,
        pairs=settings.pairs,
        routers=settings.routers,
        workers=settings.workers,
        enqueue_delay_s=settings.enqueue_delay_ms / 1000.0,
        sizes=tuple(settings.size_ranges()),
        seed=settings.seed,
        arrivals=settings.arrivals,
        grace_s=settings.grace_s,
        headers=settings.headers,
        token=settings.bearer_token,
        s3=s3,
        run_id=secrets.token_hex(6),
    )


def check_bucket(s3: S3Config) -> None:
    """`CannotRun` unless the bucket answers (a missing bucket or endpoint fails before the run,
    within seconds)."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    config = Config(connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 2})
    client = boto3.session.Session().client("s3", endpoint_url=s3.endpoint_url, config=config)
    try:
        client.head_bucket(Bucket=s3.bucket)
    except (BotoCoreError, ClientError) as error:
        raise CannotRun(f"S3 bucket {s3.bucket} at {s3.endpoint_url}: {error}") from None


def server_stats(url: str) -> dict[str, Any] | None:
    """What the local stack (``wsrelay serve``) says about itself at ``/_wsrelay/stats``: its
    start and fault window, for the plot. Only asked of ``ws://`` endpoints (API Gateway serves
    ``wss://`` only); None when nothing there answers with them."""
    import json
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "ws":
        return None
    stats_url = urllib.parse.urlunsplit(("http", parts.netloc, "/_wsrelay/stats", "", ""))
    try:
        with urllib.request.urlopen(stats_url, timeout=STATS_TIMEOUT_S) as response:
            stats = json.loads(response.read())
    except (OSError, ValueError):
        return None
    if not isinstance(stats, dict) or "started_at" not in stats:
        return None
    keys = ("started_at", "fault_window_s", "fault_seed", "faults_injected")
    return {"stats_url": stats_url, **{key: stats.get(key) for key in keys}}


def execute(spec: LoadSpec, processes: int, progress: LiveProgress) -> dict[str, Any]:
    """Run the load (in this process or in `processes` children); the report. `CannotRun` when
    the endpoint cannot be reached or a generator process fails."""
    import asyncio

    from wsrelay.client import ConnectError
    from wsrelay.tools.loadtest.generator import Generator
    from wsrelay.tools.loadtest.processes import GeneratorFailed, run_processes
    from wsrelay.tools.loadtest.progress import Snapshot
    from wsrelay.tools.loadtest.tally import Tally

    def tick(tally: Tally) -> None:
        errors = tally.publish_failures + tally.corrupted
        progress.show(Snapshot(tally.sent, tally.delivered, tally.acked, errors))

    try:
        if processes > 1:
            report = run_processes(spec, processes, progress.show)
        else:
            report = asyncio.run(Generator(spec, tick if progress.enabled else None).run())
    except (ConnectError, GeneratorFailed) as error:
        raise CannotRun(str(error)) from None
    report["server"] = server_stats(spec.url)
    return report


def run(args: argparse.Namespace) -> int:
    """Check every flag and output, then the S3 bucket, then run the load and conclude."""
    settings = options.build(LoadSettings, args, args.config)
    check_output(args.json, "--json")
    check_output(args.plot, "--plot", PNG)
    # The libraries of the run (and of --plot) before any work: a missing extra fails first.
    from wsrelay.tools.loadtest.outcome import conclude
    from wsrelay.tools.loadtest.progress import LiveProgress, wanted

    if args.plot is not None:
        import matplotlib  # noqa: F401

    spec = load_spec(settings)
    if spec.s3 is not None:
        check_bucket(spec.s3)
    with LiveProgress(spec.duration_s, wanted(settings.progress)) as progress:
        report = execute(spec, settings.processes, progress)
    return conclude("loadtest", report, args.json, args.plot, settings.max_p99_ms)


COMMAND = Command(
    name="loadtest",
    summary="load a relay endpoint with router/worker jobs (open or closed loop); latency, losses",
    description=DESCRIPTION,
    add_arguments=add_arguments,
    run=run,
    extra="tools",
)
