"""Fan-out: time to post one result to 1, 10 and 100 subscribers through the real boto3
Management API client, against a recording Management API that answers after 20 ms.
wsrelay's parallel outbound beside the legacy Node relay's sequential loop, in one run.
Target: 100 subscribers in <= 10x the time of 1 (figures: docs/benchmarks.md).

    python benchmarks/fanout.py [--latency-ms 20] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

from _support import local_client, target
from rich.console import Console
from rich.table import Table

from wsrelay.outbound.management_api import ManagementApiOutbound, client_config
from wsrelay.testing.recording_api import RecordingManagementApi


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with RecordingManagementApi(latency_s=args.latency_ms / 1000) as api:
        client = local_client("apigatewaymanagementapi", api.endpoint, config=client_config())
        outbound = ManagementApiOutbound(client)

        def parallel(ids: list[str]) -> None:
            report = outbound.post(ids, '{"guid":"g"}')
            assert all(r.status.value == "delivered" for r in report.results)

        def sequential(ids: list[str]) -> None:  # the legacy relay's loop
            for cid in ids:
                client.post_to_connection(ConnectionId=cid, Data=b'{"guid":"g"}')

        parallel([f"warm{i}" for i in range(100)])  # open the pool's connections once
        results: dict[tuple[str, int], float] = {}
        for n in (1, 10, 100):
            ids = [f"C{i}=" for i in range(n)]
            for label, fn in (("wsrelay (parallel)", parallel), ("legacy (sequential)", sequential)):
                samples = []
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    fn(ids)
                    samples.append((time.perf_counter() - t0) * 1000)
                results[(label, n)] = statistics.median(samples)
    grid = Table(
        title=f"fan-out, Management API answering after {args.latency_ms:g} ms (median of {args.repeats})"
    )
    for col in ("implementation", "1 sub", "10 subs", "100 subs", "100 / 1"):
        grid.add_column(col, justify="right")
    for label in ("wsrelay (parallel)", "legacy (sequential)"):
        t1, t10, t100 = (results[(label, n)] for n in (1, 10, 100))
        grid.add_row(label, f"{t1:.1f} ms", f"{t10:.1f} ms", f"{t100:.1f} ms", f"{t100 / t1:.1f}x")
    Console(width=120).print(grid)
    ratio = results[("wsrelay (parallel)", 100)] / results[("wsrelay (parallel)", 1)]
    print(target(f"wsrelay 100/1 <= 10x (measured {ratio:.1f}x)", ratio <= 10))


if __name__ == "__main__":
    main()
