"""Init cost: a fresh process importing wsrelay.handlers (which builds its clients), against
`import boto3` plus the same two clients, interleaved in one run. Target: ratio <= 1.2.

    python benchmarks/init_cost.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

from _support import target

ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "events-sendmessage",
    "AWS_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "x",
    "AWS_SECRET_ACCESS_KEY": "y",
    "WSRELAY_MANAGEMENT_ENDPOINT": "https://abc123defg.execute-api.us-east-1.amazonaws.com/prod",
}
TIMER = "import time; t0 = time.perf_counter()\n{body}\nprint(time.perf_counter() - t0)"
WSRELAY = "import wsrelay.handlers"
BASELINE = (
    "import boto3\n"
    "s = boto3.session.Session(region_name='us-east-1')\n"
    "s.client('dynamodb')\n"
    "s.client('apigatewaymanagementapi', endpoint_url='https://abc123defg.execute-api.us-east-1.amazonaws.com/prod')"
)


def once(body: str) -> float:
    env = {**os.environ, **ENV}
    out = subprocess.run(
        [sys.executable, "-c", TIMER.format(body=body)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    once(BASELINE), once(WSRELAY)  # warm the OS file cache
    base, ours = [], []
    for i in range(args.runs):
        base.append(once(BASELINE))
        ours.append(once(WSRELAY))
        print(f"\r  run {i + 1}/{args.runs}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    mb, mo = statistics.median(base), statistics.median(ours)
    print(f"init cost (fresh process, median of {args.runs} interleaved runs)")
    print(f"  baseline  import boto3 + dynamodb + apigatewaymanagementapi clients: {mb:7.1f} ms")
    print(f"  wsrelay   import wsrelay.handlers (builds the same clients):         {mo:7.1f} ms")
    print(f"  ratio {mo / mb:.2f}x")
    print(target(f"wsrelay init <= 1.20x the baseline (measured {mo / mb:.2f}x)", mo / mb <= 1.20))


if __name__ == "__main__":
    main()
