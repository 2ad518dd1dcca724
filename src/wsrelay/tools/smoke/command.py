"""``wsrelay smoke URL``: the subcommand (flags from `SmokeSettings`), its PASS/FAIL lines and
``--json``.

Exit status: 0 when every step passed; 1 when one failed (the endpoint answered wrongly, a
rejected upgrade included); 2 for bad flags; 3 when the endpoint cannot be reached at all
(refused, no such host, no answer: reported within 10 s) or the JSON cannot be written; 130 on
Ctrl-C. Only the standard library and the command-line kit are imported here: the steps (and
websockets) are imported when the command runs.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from wsrelay.cli import options
from wsrelay.cli.checks import FAILED, OK, CannotRun, check_output
from wsrelay.cli.command import Command, add_config, add_json
from wsrelay.cli.output import report_stream, write_json
from wsrelay.tools.smoke.settings import SmokeSettings

if TYPE_CHECKING:
    from wsrelay.tools.smoke.steps import StepResult

DESCRIPTION = """\
Check a relay endpoint step by step: connect; ping -> pong; subscribe, publish and receive the
identical bytes; the ack reaches the publisher; unsubscribe; a result stored before its
subscriber; resends; malformed and oversized input; disconnect. One PASS/FAIL line per step with
its time in ms; nothing is left stored.

Exit status: 0 every step passed, 1 a step failed, 2 usage error, 3 the endpoint cannot be
reached (or the JSON file cannot be written), 130 interrupted. With --json -, stdout holds the
JSON only and the step lines go to stderr."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Every `SmokeSettings` field, ``--json`` and ``--config``."""
    options.add_arguments(parser, SmokeSettings)
    add_json(parser, 'the result, {"passed", "url", "steps": [{"name", "ok", "ms", "detail"}]},')
    add_config(parser, "smoke's settings (timeout_s, header, token_file)")


def line(result: StepResult) -> str:
    """The report line of one step."""
    from wsrelay.tools.smoke.steps import SKIPPED

    verdict = "PASS" if result.ok else "FAIL"
    if result.ok and result.detail.startswith(SKIPPED):
        verdict = "SKIP"
    return f"{verdict} {result.ms:8.1f} ms  {result.name} -- {result.detail}"


def run(args: argparse.Namespace) -> int:
    """Check the flags and the output path, then run the steps: 0 all passed, 1 one failed."""
    settings = options.build(SmokeSettings, args, args.config)
    check_output(args.json, "--json")

    import asyncio

    from wsrelay.client.options import with_token
    from wsrelay.tools.smoke.probe import EndpointUnreachable
    from wsrelay.tools.smoke.steps import Smoke, run_steps

    stream = report_stream(args.json)
    started = time.perf_counter()
    # Every probe connection carries the token; the report names the URL without it.
    url = with_token(settings.url, settings.bearer_token)
    smoke = Smoke(url, settings.headers, settings.timeout_s)
    try:
        results = asyncio.run(
            run_steps(
                url,
                settings.headers,
                settings.timeout_s,
                lambda result: print(line(result), file=stream, flush=True),
                smoke,
            )
        )
    except EndpointUnreachable as error:
        raise CannotRun(f"cannot connect to {settings.url}: {error}") from None
    passed = all(result.ok for result in results)
    failed = sum(not result.ok for result in results)
    elapsed = (time.perf_counter() - started) * 1000.0
    summary = "PASSED" if passed else f"FAILED ({failed} of {len(results)} steps)"
    mode = f", publisher ack: {smoke.mode}" if smoke.mode else ""
    print(f"smoke {settings.url}: {summary} in {elapsed:.0f} ms{mode}", file=stream, flush=True)
    document = {
        "passed": passed,
        "url": settings.url,
        "publisherAck": smoke.mode,
        "steps": [result.as_dict() for result in results],
    }
    write_json("smoke", args.json, document)
    return OK if passed else FAILED


COMMAND = Command(
    name="smoke",
    summary="check a relay endpoint step by step (PASS/FAIL per step, ms); exit 0 only if all pass",
    description=DESCRIPTION,
    add_arguments=add_arguments,
    run=run,
)
