"""The notes under the cost table: where the traffic figure comes from, what every scenario
bills alike, and the assumptions AWS's documentation leaves open, with what to check on the
first deploy (docs/aws-facts.md has the facts and their sources)."""

from __future__ import annotations

from wsrelay.tools.cost import defaults
from wsrelay.tools.cost.inputs import Inputs
from wsrelay.tools.cost.model import SHARED, Result
from wsrelay.tools.cost.report import LABELS, shared_usd
from wsrelay.tools.cost.sizing import Measured
from wsrelay.tools.prices import Prices


def traffic(inputs: Inputs) -> str:
    """The mean and the peak, with the mean's source when it is the default."""
    source = defaults.MEAN_JOBS_SOURCE if inputs.mean_jobs_per_s == defaults.MEAN_JOBS_PER_S else "as given"
    return (
        f"traffic: {inputs.mean_jobs_per_s:g} jobs/s mean ({source}); LMI sized for a peak of "
        f"{inputs.peak_jobs_per_s:.3g} jobs/s (peak factor {inputs.peak_factor:g}: an assumption, "
        "the daily peak is not published)"
    )


def shared(results: list[Result]) -> str:
    """What every scenario bills alike."""
    names = ", ".join(LABELS[k] for k in SHARED)
    return (
        f"every scenario bills ${shared_usd(results):,.2f} a month alike ({names}); "
        "they differ only in compute and egress"
    )


def egress(inputs: Inputs) -> str:
    """How the LMI instances reach AWS's public endpoints, and what to check on the first deploy."""
    if inputs.egress == "public":
        return (
            "egress public: one public IPv4 address per LMI instance, no NAT; AWS's documentation does "
            "not say whether LMI instances get a public IP in a subnet that assigns one on launch. "
            "First deploy: check that the instances have a public IPv4 and that the functions reach "
            "DynamoDB, CloudWatch Logs and execute-api; if not, they need a NAT gateway (--egress nat)"
        )
    if inputs.nat_gateways == 0:
        return (
            "egress nat with 0 NAT gateways: nothing billed for NAT; the functions then need another way "
            "out (a DynamoDB gateway endpoint and a Logs interface endpoint; an execute-api interface "
            "endpoint with private DNS breaks the posts to the public WebSocket API)"
        )
    return (
        f"egress nat: {inputs.nat_gateways} NAT gateway(s) billed by the hour and per GB processed. "
        "First deploy: compare the NAT gateways' BytesOutToDestination with the estimate (sizing "
        "nat_gb_month); Compiler Explorer's VPC has public subnets and no NAT today"
    )


def placement(inputs: Inputs) -> str:
    """LMI's minimum environments and how they are placed on instances."""
    minimums = ", ".join(f"{name} {n}" for name, n in inputs.min_environments)
    return (
        f"LMI: MinExecutionEnvironments {minimums} (AWS's default 3, accepts 0 and up; LMI keeps at "
        "least what the traffic needs, and has no cold starts: with no environment up, an invocation "
        f"is throttled until LMI scales out); at least {inputs.min_instances} instances (AWS launches 3 "
        "for AZ resiliency); several functions share an instance (documented); each function's "
        "environments are spread across the AZs (assumed: AWS does not say)"
    )


def prices_and_figures(table: Prices, figures: Measured) -> str:
    """Where the prices and the handler figures come from."""
    return (
        f"prices: {table.region}, {len(table.rows)} items and {len(table.instances)} instance types on "
        f"file; handler figures: {figures.cpu_ms:.2f} ms CPU, {figures.rss_mib:.0f} MiB per process, "
        f"{figures.log_bytes:.0f} log bytes per invocation ({figures.source})"
    )


def all_notes(inputs: Inputs, table: Prices, figures: Measured, results: list[Result]) -> list[str]:
    """Every note, in the order they are shown."""
    notes = [traffic(inputs), shared(results)]
    if any(r.sizing for r in results):
        notes += [egress(inputs), placement(inputs)]
    return [*notes, prices_and_figures(table, figures)]
