"""The load test's report: built from a generator's tally, merged across generators (processes
or machines) exactly, and shown as a table.

Counts add up; the publisher ack mode (``stored`` or ``router``) follows from the acks the relay
sent itself, and labels the ack latency; histograms are HdrHistograms in one configuration, so
their merge is exact and the merged percentiles are those of all jobs together; per-second series
are keyed by wall-clock second and added per second (machines need synchronized clocks, as NTP gives them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

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
SERIES = ("throughput_per_s", "acks_per_s")


class ReportError(ValueError):
    """A document that is not a loadtest report, or one that cannot be merged with the others."""


def build_report(
    spec: LoadSpec,
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
    }
    seconds = sorted(tally.seconds.items())
    series = {
        "throughput_per_s": {str(s): v.delivered for s, v in seconds if v.delivered},
        "acks_per_s": {str(s): v.acked for s, v in seconds if v.acked},
        "latency_per_s": {
            str(s): [v.delivered, round(v.latency_sum_ms, 3), round(v.latency_max_ms, 3)]
            for s, v in seconds
            if v.delivered
        },
    }
    latencies = {"deliver": tally.deliver, "ack": tally.ack, "lag": tally.lag}
    return finish({**run, **counts, **series, "errors_sample": list(tally.error_samples)}, latencies)


def finish(report: dict[str, Any], latencies: dict[str, Latency]) -> dict[str, Any]:
    """Add what follows from the counts and histograms: lost, unacked, percentiles, encodings."""
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
    missing = [key for key in (*COUNTS, "duration_s", "histograms", "started_at") if key not in report]
    if missing:
        raise ReportError(f"missing {', '.join(missing)}")
    if report.get("histogram_config") != CONFIG:
        raise ReportError(f"histogram configuration {report.get('histogram_config')} differs from {CONFIG}")
    return report


def merge_reports(reports: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """One report of several generators' runs: counts and series added, histograms merged."""
    reports = [check(report) for report in reports]
    if not reports:
        raise ReportError("nothing to merge")
    first = reports[0]
    merged: dict[str, Any] = {key: first.get(key) for key in ("tool", "url", "mode", "arrivals", "sizes")}
    merged["urls"] = sorted({report.get("url") for report in reports})
    for key in ("routers", "workers", "processes", "pairs", "rate"):
        values = [report.get(key) for report in reports if report.get(key) is not None]
        merged[key] = sum(values) if values else None
    merged["duration_s"] = max(report["duration_s"] for report in reports)
    merged["enqueue_delay_ms"] = first.get("enqueue_delay_ms")
    merged["started_at"] = min(report["started_at"] for report in reports)
    merged["ended_at"] = max(report.get("ended_at", report["started_at"]) for report in reports)
    for key in COUNTS:
        merged[key] = sum(int(report[key]) for report in reports)
    # Optional: reports written before publisher_ack existed lack it (all of their acks were relayed).
    merged["acks_on_store"] = sum(int(report.get("acks_on_store", 0)) for report in reports)
    merged["generator_cpu_s"] = round(sum(float(report.get("generator_cpu_s", 0.0)) for report in reports), 3)
    for key in SERIES:
        merged[key] = _add_series(report.get(key, {}) for report in reports)
    merged["latency_per_s"] = _merge_latency_series(report.get("latency_per_s", {}) for report in reports)
    samples = [sample for report in reports for sample in report.get("errors_sample", [])]
    merged["errors_sample"] = list(dict.fromkeys(samples))[:5]
    latencies = latencies_of(reports[0])
    for report in reports[1:]:
        for name, latency in latencies_of(report).items():
            latencies[name].add(latency)
    return finish(merged, latencies)


def _add_series(series: Iterable[dict[str, int]]) -> dict[str, int]:
    total: dict[str, int] = {}
    for one in series:
        for second, value in one.items():
            total[second] = total.get(second, 0) + int(value)
    return dict(sorted(total.items()))


def _merge_latency_series(series: Iterable[dict[str, list[float]]]) -> dict[str, list[float]]:
    total: dict[str, list[float]] = {}
    for one in series:
        for second, (count, sum_ms, max_ms) in one.items():
            was = total.get(second, [0, 0.0, 0.0])
            total[second] = [was[0] + count, round(was[1] + sum_ms, 3), max(was[2], max_ms)]
    return dict(sorted(total.items()))


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
    console.print(counts)
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
