"""The load test's report: built from a generator's tally, merged across generators (processes
or machines) exactly, and shown as a table.

Counts add up; the publisher ack mode (``stored`` or ``router``) follows from the acks the relay
sent itself, and labels the ack latency; histograms are HdrHistograms in one configuration, so
their merge is exact and the merged percentiles are those of all jobs together; per-second series
(`wsrelay.tools.loadtest.seconds`) are kept by wall-clock second and merged second by second
(machines need synchronized clocks, as NTP gives them).

Each generator's report is one run with an id (``runs``); a merge refuses a run it already has,
and keeps runs that did not overlap apart in time: the merged duration, rate and throughput come
from the union of the runs' load periods, and ``spans`` lists the disjoint periods they cover.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from wsrelay.tools.loadtest import seconds
from wsrelay.tools.loadtest.histograms import CONFIG, PERCENTILES, Latency

if TYPE_CHECKING:
    from wsrelay.client import Publisher, Subscriber
    from wsrelay.tools.loadtest.generator import LoadSpec
    from wsrelay.tools.loadtest.tally import Tally

TOOL = "wsrelay loadtest"
COUNTS = (
    "sent",
    "published",
    "delivered",
    "acked",
    "duplicates",
    "errors",
    "reconnects",
    "resends",
    "publish_failures",
    "corrupted",
    "s3_offloaded",
    "acks_replayed",
)
HISTOGRAMS = ("deliver", "ack", "lag")


class ReportError(ValueError):
    """A document that is not a loadtest report, or one that cannot be merged with the others."""


def build_report(
    spec: LoadSpec,
    run_id: str,
    tally: Tally,
    routers: Sequence[Subscriber],
    workers: Sequence[Publisher],
    started_at: float,
    ended_at: float,
) -> dict[str, Any]:
    """One generator's report (the JSON document of ``--json``)."""
    counts = {
        "sent": tally.sent,
        "published": tally.published,
        "delivered": tally.delivered,
        "acked": tally.acked,
        "duplicates": sum(router.stats.duplicates for router in routers),
        "errors": tally.publish_failures
        + tally.corrupted
        + sum(router.stats.errors for router in routers)
        + sum(worker.stats.errors for worker in workers),
        "reconnects": sum(r.reconnects for r in routers) + sum(w.reconnects for w in workers),
        "resends": sum(worker.stats.resends + worker.stats.reconnect_resends for worker in workers),
        "publish_failures": tally.publish_failures,
        "corrupted": tally.corrupted,
        "s3_offloaded": tally.s3_offloaded,
        "acks_replayed": sum(router.stats.acks_replayed for router in routers),
        "acks_on_store": tally.acks_on_store,
        "generator_cpu_s": round(tally.cpu_s, 3),
    }
    run = {
        "tool": TOOL,
        "url": spec.url,
        "mode": "open" if spec.rate is not None else "closed",
        "rate": spec.rate,
        "pairs": spec.pairs,
        "duration_s": spec.duration_s,
        "routers": spec.routers,
        "workers": spec.workers,
        "processes": 1,
        "enqueue_delay_ms": spec.enqueue_delay_s * 1000.0,
        "arrivals": spec.arrivals,
        "sizes": ",".join(f"{r.low}-{r.high}:{r.weight:g}" for r in spec.sizes),
        "started_at": started_at,
        "ended_at": ended_at,
        "run_id": run_id,
        "runs": [
            {
                "id": run_id,
                "started_at": started_at,
                "ended_at": ended_at,
                "duration_s": spec.duration_s,
                "rate": spec.rate,
            }
        ],
    }
    histograms = {second: Latency.decode(text) for second, text in tally.intervals.histograms().items()}
    latencies = {"deliver": tally.deliver, "ack": tally.ack, "lag": tally.lag}
    report = {**run, **counts, "errors_sample": list(tally.error_samples)}
    return finish(report, latencies, tally.intervals.counts, histograms)


def finish(
    report: dict[str, Any],
    latencies: dict[str, Latency],
    counts: dict[int, seconds.Counts],
    per_second: dict[int, Latency],
) -> dict[str, Any]:
    """Add what follows from the counts and histograms: lost, unacked, percentiles, encodings,
    the per-second series."""
    report["lost"] = report["sent"] - report["delivered"]
    report["unacked"] = report["published"] - report["acked"]
    report["publisher_ack"] = publisher_ack(report["acked"], int(report.get("acks_on_store", 0)))
    deliver = latencies["deliver"]
    for name, percentile in PERCENTILES:
        report[name] = round(deliver.percentile_ms(percentile), 3)
    report["max_ms"] = round(deliver.max_ms(), 3)
    report["throughput_avg_per_s"] = round(report["delivered"] / report["duration_s"], 3)
    report["latency"] = {name: latency.summary() for name, latency in latencies.items()}
    report["histograms"] = {name: latency.encode() for name, latency in latencies.items()}
    report["histogram_config"] = dict(CONFIG)
    spans = [seconds.Span(run["started_at"], run["ended_at"]) for run in report["runs"]]
    rows = seconds.series(counts, per_second, spans, math.floor(report["started_at"]))
    report["per_second"] = rows
    report["stalled_s"] = seconds.stalled(rows)
    report["deliver_histograms_per_s"] = seconds.encode(per_second)
    return report


def publisher_ack(acked: int, on_store: int) -> str | None:
    """The relay's publisher ack mode as the acks show it: ``stored`` when the relay sent any ack
    itself (in that mode a resend after a router's ack is still acked with the router's id, so
    not every ack is), else ``router``; None without any ack. `acks_on_store` has the count."""
    if not acked:
        return None
    return "stored" if on_store else "router"


def latencies_of(report: dict[str, Any]) -> dict[str, Latency]:
    """The report's histograms, decoded."""
    try:
        encoded = report["histograms"]
        clamped = {name: int(report["latency"][name].get("clamped", 0)) for name in HISTOGRAMS}
        return {name: Latency.decode(encoded[name], clamped[name]) for name in HISTOGRAMS}
    except (KeyError, TypeError, AttributeError) as error:
        raise ReportError(f"no histograms ({error})") from None


def check(report: object) -> dict[str, Any]:
    """`report` if it looks like a loadtest report; ReportError naming what is missing."""
    if not isinstance(report, dict) or report.get("tool") != TOOL:
        raise ReportError(f"not a {TOOL} report")
    required = (*COUNTS, "duration_s", "histograms", "started_at", "runs", "per_second")
    missing = [key for key in (*required, "deliver_histograms_per_s") if key not in report]
    if missing:
        old = "runs" in missing or "per_second" in missing
        hint = " (written by an older wsrelay loadtest: run it again)" if old else ""
        raise ReportError(f"missing {', '.join(missing)}{hint}")
    if report.get("histogram_config") != CONFIG:
        raise ReportError(f"histogram configuration {report.get('histogram_config')} differs from {CONFIG}")
    return report


def merge_reports(
    reports: Iterable[dict[str, Any]], *, duration_s: float | None = None, rate: float | None = None
) -> dict[str, Any]:
    """One report of several runs: counts added, histograms merged exactly, per-second series
    merged by wall-clock second. ReportError if a run appears twice. `duration_s` and `rate`
    override the union's (the generator processes of one run)."""
    reports = [check(report) for report in reports]
    if not reports:
        raise ReportError("nothing to merge")
    runs: list[dict[str, Any]] = []
    for report in reports:
        for run in report["runs"]:
            if any(run["id"] == seen["id"] for seen in runs):
                raise ReportError(f"run {run['id']} is already in another report (the same run twice)")
            runs.append(run)
    runs.sort(key=lambda run: run["started_at"])
    first = reports[0]
    merged: dict[str, Any] = {key: first.get(key) for key in ("tool", "url", "mode", "arrivals", "sizes")}
    merged["urls"] = sorted({report.get("url") for report in reports})
    for key in ("routers", "workers", "processes", "pairs"):
        values = [report.get(key) for report in reports if report.get(key) is not None]
        merged[key] = sum(values) if values else None
    load = seconds.union((run["started_at"], run["started_at"] + run["duration_s"]) for run in runs)
    merged["duration_s"] = duration_s or round(sum(end - start for start, end in load), 3)
    if rate is None and merged["mode"] == "open" and all(run.get("rate") for run in runs):
        rate = round(sum(run["rate"] * run["duration_s"] for run in runs) / merged["duration_s"], 3)
    merged["rate"] = rate
    merged["enqueue_delay_ms"] = first.get("enqueue_delay_ms")
    merged["started_at"] = min(run["started_at"] for run in runs)
    merged["ended_at"] = max(run["ended_at"] for run in runs)
    merged["run_id"] = None
    merged["runs"] = runs
    spans = seconds.union((run["started_at"], run["ended_at"]) for run in runs)
    merged["spans"] = [[round(start, 3), round(end, 3)] for start, end in spans]
    merged["runs_overlap"] = len(spans) == 1
    for key in COUNTS:
        merged[key] = sum(int(report[key]) for report in reports)
    # Optional: reports written before publisher_ack existed lack it (all of their acks were relayed).
    merged["acks_on_store"] = sum(int(report.get("acks_on_store", 0)) for report in reports)
    merged["generator_cpu_s"] = round(sum(float(report.get("generator_cpu_s", 0.0)) for report in reports), 3)
    merged["server"] = next((report["server"] for report in reports if report.get("server")), None)
    samples = [sample for report in reports for sample in report.get("errors_sample", [])]
    merged["errors_sample"] = list(dict.fromkeys(samples))[:5]
    latencies = latencies_of(reports[0])
    for report in reports[1:]:
        for name, latency in latencies_of(report).items():
            latencies[name].add(latency)
    counts, per_second = seconds.merge(reports)
    return finish(merged, latencies, counts, per_second)


def render(report: dict[str, Any], console: Console) -> None:
    """The end-of-run tables: counts, then latency percentiles."""
    counts = Table(title=f"{TOOL} {report['url']} ({_mode(report)})", show_header=False)
    counts.add_column("what")
    counts.add_column("count", justify="right")
    for key in (
        "sent",
        "delivered",
        "acked",
        "lost",
        "unacked",
        "duplicates",
        "errors",
        "reconnects",
        "resends",
    ):
        style = "bold red" if key in ("lost", "errors", "unacked") and report[key] else ""
        counts.add_row(key, str(report[key]), style=style)
    if report["s3_offloaded"]:
        counts.add_row("via S3", str(report["s3_offloaded"]))
    counts.add_row("throughput (delivered/s)", f"{report['throughput_avg_per_s']:.1f}")
    stalls = report.get("stalled_s", [])
    counts.add_row("seconds without a delivery", str(len(stalls)), style="bold red" if stalls else "")
    console.print(counts)
    spans = report.get("spans", [])
    if len(spans) > 1:
        gaps = [later[0] - earlier[1] for earlier, later in itertools.pairwise(spans)]
        console.print(
            f"note: the runs do not overlap in time: {len(spans)} separate periods, "
            f"{', '.join(f'{gap:.1f} s' for gap in gaps)} apart; the per-second series keeps them "
            "apart and the rates come from the time they cover",
            style="yellow",
            highlight=False,
        )
    latency = Table(title="latency (ms, from the intended publish time)")
    latency.add_column("")
    for name, _ in PERCENTILES:
        latency.add_column(name.removesuffix("_ms").replace("p999", "p99.9"), justify="right")
    latency.add_column("max", justify="right")
    latency.add_column("count", justify="right")
    mode = report.get("publisher_ack")
    ack_label = f"publish -> ack ({mode})" if mode else "publish -> ack"
    labels = {"deliver": "publish -> deliver", "ack": ack_label, "lag": "generator lag"}
    for name, label in labels.items():
        summary = report["latency"][name]
        cells = [f"{summary[key]:.2f}" for key, _ in PERCENTILES]
        latency.add_row(label, *cells, f"{summary['max_ms']:.2f}", str(summary["count"]))
    console.print(latency)
    for sample in report.get("errors_sample", []):
        console.print(f"error: {sample}", style="red", markup=False, highlight=False)


def _mode(report: dict[str, Any]) -> str:
    if report["mode"] == "open":
        return f"open loop {report['rate']:g} jobs/s for {report['duration_s']:g} s"
    return f"closed loop {report['pairs']} pairs for {report['duration_s']:g} s"
