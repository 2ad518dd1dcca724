"""``wsrelay smoke URL``: argument parsing, validation, the report lines and ``--json``.

Exit status: 0 when every step passed, 1 when one failed (an unreachable endpoint fails the first
step at once), 2 for bad flags.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from wsrelay.cli.checks import check_output, check_url, parse_headers
from wsrelay.tools.smoke.steps import SKIPPED, Smoke, StepResult, run_steps

HELP = "check a relay endpoint step by step (PASS/FAIL per step, ms); exit 0 only if all pass"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of ``wsrelay smoke``."""
    parser.add_argument(
        "url", help="ws:// or wss:// endpoint, e.g. wss://ID.execute-api.REGION.amazonaws.com/prod"
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="seconds per step (default 5)")
    parser.add_argument("--json", type=Path, metavar="FILE", help='write {"passed", "steps": [...]} here')
    parser.add_argument(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="extra header on every upgrade request (repeatable), e.g. an authorization token",
    )


def _line(result: StepResult) -> str:
    verdict = "PASS" if result.ok else "FAIL"
    if result.ok and result.detail.startswith(SKIPPED):
        verdict = "SKIP"
    return f"{verdict} {result.ms:8.1f} ms  {result.name} -- {result.detail}"


def run(args: argparse.Namespace) -> int:
    """Run the smoke test; 0 all passed, 1 a step failed, 2 bad flags."""
    try:
        check_url(args.url)
        if not args.timeout > 0:
            raise ValueError(f"--timeout {args.timeout:g}: must be positive")
        headers = parse_headers(args.header)
        check_output(args.json, "--json")
    except ValueError as error:
        print(f"wsrelay smoke: error: {error}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    smoke = Smoke(args.url, headers, args.timeout)
    try:
        results = asyncio.run(
            run_steps(args.url, headers, args.timeout, lambda r: print(_line(r), flush=True), smoke)
        )
    except KeyboardInterrupt:
        print("wsrelay smoke: interrupted", file=sys.stderr)
        return 130
    passed = all(result.ok for result in results)
    failed = sum(not result.ok for result in results)
    elapsed = (time.perf_counter() - started) * 1000.0
    summary = "PASSED" if passed else f"FAILED ({failed} of {len(results)} steps)"
    mode = f", publisher ack: {smoke.mode}" if smoke.mode else ""
    print(f"smoke {args.url}: {summary} in {elapsed:.0f} ms{mode}")
    if args.json is not None:
        document = {
            "passed": passed,
            "url": args.url,
            "publisherAck": smoke.mode,
            "steps": [result.as_dict() for result in results],
        }
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0 if passed else 1
