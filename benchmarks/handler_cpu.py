"""Handler CPU time per invocation on the Lambda path, and resident memory per process.

A child process imports the public Lambda entry points (``wsrelay.handlers``) with
WSRELAY_STORE=dynamodb against moto's server on 127.0.0.1 and the recording Management API, the
way Lambda runs them: client construction happens at import and is excluded. It then runs job
cycles (subscribe, publish, ack, unsubscribe on ``sendmessage``; ``onconnect``/``ondisconnect``)
and times each invocation with ``time.process_time`` (the child's CPU only: moto and the
Management API run in other processes or threads of the parent). Resident memory is the child's
RSS after the run (psutil). The figures go to src/wsrelay/tools/measured.json, which
``wsrelay cost`` reads as its defaults for sizing.

    python benchmarks/handler_cpu.py [--cycles 300] [--result-bytes 4096] [--output FILE]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "src" / "wsrelay" / "tools" / "measured.json"
OPERATIONS = ("subscribe", "publish", "ack", "unsubscribe", "onconnect", "ondisconnect")
# The four sendmessage invocations of one job; their mean is the per-invocation figure.
JOB = ("subscribe", "publish", "ack", "unsubscribe")
WARMUP_CYCLES = 20


def child(cycles: int, result_bytes: int, out_path: str) -> None:
    """Runs in the child process: import the handlers (init), then time invocations."""
    import time

    import psutil

    import wsrelay.handlers as handlers  # builds the boto3 clients (Lambda init, not measured)

    lines: list[str] = []

    class Capture:
        """Stands in for stdout, where the handlers write their log lines (as in Lambda)."""

        def write(self, text: str) -> int:
            lines.append(text)
            return len(text)

        def flush(self) -> None:
            pass

    sys.stdout = Capture()  # type: ignore[assignment]

    def event(connection: str, route: str, body: str | None = None) -> dict:
        return {
            "requestContext": {"connectionId": connection, "routeKey": route, "requestId": uuid.uuid4().hex},
            "body": body,
            "isBase64Encoded": False,
        }

    padding = "x" * max(0, result_bytes - 40)
    cpu: dict[str, list[float]] = {op: [] for op in OPERATIONS}
    wall: dict[str, list[float]] = {op: [] for op in OPERATIONS}
    log_bytes: dict[str, list[int]] = {op: [] for op in OPERATIONS}

    def timed(op: str, call, ev: dict, record: bool) -> None:
        before = len(lines)
        w0, c0 = time.perf_counter(), time.process_time()
        call(ev, None)
        c1, w1 = time.process_time(), time.perf_counter()
        if record:
            cpu[op].append((c1 - c0) * 1000)
            wall[op].append((w1 - w0) * 1000)
            log_bytes[op].append(sum(len(line.encode()) for line in lines[before:]))
        del lines[before:]

    for n in range(WARMUP_CYCLES + cycles):
        record = n >= WARMUP_CYCLES
        guid = f"bench-{n}-{uuid.uuid4().hex[:8]}"
        router, worker = f"R{n}=", f"W{n}="
        timed("onconnect", handlers.onconnect, event(router, "$connect"), record)
        timed("subscribe", handlers.sendmessage, event(router, "$default", f"subscribe: {guid}"), record)
        result = json.dumps({"guid": guid, "code": 0, "asm": padding})
        timed("publish", handlers.sendmessage, event(worker, "$default", result), record)
        timed("ack", handlers.sendmessage, event(router, "$default", f"ack: {guid}"), record)
        timed("unsubscribe", handlers.sendmessage, event(router, "$default", f"unsubscribe: {guid}"), record)
        timed("ondisconnect", handlers.ondisconnect, event(router, "$disconnect"), record)
    sys.stdout = sys.__stdout__
    rss = psutil.Process().memory_info().rss / 2**20
    figures = {
        op: {
            "cpu_ms_median": statistics.median(cpu[op]),
            "cpu_ms_mean": statistics.fmean(cpu[op]),
            "wall_ms_median": statistics.median(wall[op]),
            "log_bytes_mean": statistics.fmean(log_bytes[op]),
        }
        for op in OPERATIONS
    }
    Path(out_path).write_text(json.dumps({"operations": figures, "rss_mib": rss}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--result-bytes", type=int, default=4096)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--child", nargs=3, metavar=("CYCLES", "BYTES", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(int(args.child[0]), int(args.child[1]), args.child[2])
        return

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _support import LOCAL_CREDENTIALS, local_client, moto_server

    from wsrelay.stores.dynamodb import create_table
    from wsrelay.testing.recording_api import RecordingManagementApi

    table = f"bench-{uuid.uuid4().hex[:8]}"
    scratch = ROOT / ".bench-handler-cpu.json"
    with moto_server() as endpoint, RecordingManagementApi() as api:
        create_table(local_client("dynamodb", endpoint), table)
        env = {
            **LOCAL_CREDENTIALS,
            **os.environ,
            "WSRELAY_STORE": "dynamodb",
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "WSRELAY_MANAGEMENT_ENDPOINT": api.endpoint,
            "CONNECTIONS_TABLE": table,
            "AWS_LAMBDA_FUNCTION_NAME": "events-sendmessage",
            "AWS_REGION": "us-east-1",
        }
        print(f"running {args.cycles} job cycles ({args.result_bytes}-byte results) in a child process...")
        subprocess.run(
            [sys.executable, __file__, "--child", str(args.cycles), str(args.result_bytes), str(scratch)],
            env=env,
            check=True,
        )
    raw = json.loads(scratch.read_text())
    scratch.unlink()
    ops = raw["operations"]
    per_job = {
        "cpu_ms": statistics.fmean(ops[op]["cpu_ms_median"] for op in JOB),
        "rss_mib": raw["rss_mib"],
        "log_bytes": statistics.fmean(ops[op]["log_bytes_mean"] for op in JOB),
    }
    doc = {
        "measured_on": f"{datetime.date.today().isoformat()}, {platform.machine()}, "
        f"Python {platform.python_version()}",
        "method": "benchmarks/handler_cpu.py: process_time per invocation (median of the cycles), "
        "RSS of the handler process after the run",
        "cycles": args.cycles,
        "result_bytes": args.result_bytes,
        "operations": {op: {k: round(v, 4) for k, v in f.items()} for op, f in ops.items()},
        "per_job_mean": {k: round(v, 4) for k, v in per_job.items()},
    }
    args.output.write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{'operation':<14}{'CPU ms (median)':>16}{'wall ms (median)':>18}{'log bytes':>11}")
    for op in OPERATIONS:
        f = ops[op]
        print(f"{op:<14}{f['cpu_ms_median']:>16.3f}{f['wall_ms_median']:>18.3f}{f['log_bytes_mean']:>11.0f}")
    print(
        f"per sendmessage invocation (mean of the job's four medians): {per_job['cpu_ms']:.3f} ms CPU, "
        f"{per_job['log_bytes']:.0f} log bytes; resident memory per process {per_job['rss_mib']:.1f} MiB"
    )
    print(f"reference: the cost model's default I/O wait per invocation is 25 ms; written to {args.output}")


if __name__ == "__main__":
    main()
