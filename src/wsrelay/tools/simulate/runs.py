"""A scenario's runs: every (compute mode, relay, publisher ack) pair for every seed, and what
they add up to: per pair, the mean over seeds of each figure with its 95% interval, and the
delivered share against the best compute mode of the same relay, marked when the difference lies
within the seed variance. `document` is the JSON ``--json`` writes."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from wsrelay.tools.prices import Prices
from wsrelay.tools.simulate.model import RunResult, run
from wsrelay.tools.simulate.parameters import COMPUTE_MODES, RELAYS, SimConfig
from wsrelay.tools.simulate.stats import estimate, paired_difference

Pair = tuple[str, str, str]  # (compute, relay, publisher_ack)
PAIRS: tuple[Pair, ...] = tuple((c, r, a) for c in COMPUTE_MODES for r, a in RELAYS)
# Figures averaged over seeds, and the decimals each is told to (what the model can tell).
FIGURES = {
    "delivered_pct": 2,
    "timed_out": 1,
    "lost": 1,
    "in_flight": 1,
    "p99_latency_s": 2,
    "relay_throttles": 1,
    "cold_starts": 1,
    "worker_resends": 1,
    "worker_give_ups": 1,
    "worker_failures": 1,
    "relay_cost_usd": 4,
}
Progress = Callable[[int, str], Callable[[float], None] | None]


def seeds_from(first: int, count: int) -> list[int]:
    """Seeds first .. first + count - 1."""
    return list(range(first, first + count))


def run_all(
    config: SimConfig,
    scenario: str,
    seeds: Sequence[int],
    cpu_s: dict[str, float],
    prices: Prices,
    progress: Progress | None = None,
) -> list[RunResult]:
    """Every pair for every seed, seed by seed (`progress(i, label)` as run `i` starts)."""
    results: list[RunResult] = []
    for seed in seeds:
        for compute, relay, ack in PAIRS:
            label = f"{compute} / {label_of(relay, ack)} / seed {seed}"
            advance = progress(len(results), label) if progress is not None else None
            results.append(run(config, scenario, compute, relay, ack, seed, cpu_s, prices, advance))
    return results


def label_of(relay: str, ack: str) -> str:
    """How tables name a relay: legacy, or wsrelay with its publisher ack mode."""
    return "legacy" if relay == "legacy" else f"wsrelay {ack}"


def _figure(row: dict[str, Any], name: str) -> float:
    if name == "delivered_pct":
        return 100.0 * row["delivered"] / row["jobs"] if row["jobs"] else 0.0
    value = row[name]
    return float("nan") if value is None else float(value)


def summarize(rows: Sequence[dict[str, Any]], seeds: Sequence[int]) -> list[dict[str, Any]]:
    """Per pair: every figure's mean and 95% interval over `seeds`; `vs_best_pp`, the delivered
    share minus that of the best compute mode of the same relay (percentage points, paired by
    seed), and `within_seed_variance` (None with one seed)."""
    by_pair: dict[Pair, list[dict[str, Any]]] = {p: [] for p in PAIRS}
    for row in rows:
        by_pair[(row["compute"], row["relay"], row["publisher_ack"])].append(row)
    for pair_rows in by_pair.values():
        pair_rows.sort(key=lambda r: seeds.index(r["seed"]))
    delivered = {p: [_figure(r, "delivered_pct") for r in rs] for p, rs in by_pair.items()}
    out = []
    for pair, pair_rows in by_pair.items():
        compute, relay, ack = pair
        same_relay = [p for p in PAIRS if p[1:] == pair[1:]]
        best = max(same_relay, key=lambda p: (estimate(delivered[p]).mean, -PAIRS.index(p)))
        versus = paired_difference(delivered[pair], delivered[best])
        summary: dict[str, Any] = {"compute": compute, "relay": relay, "publisher_ack": ack}
        summary["seeds"] = len(pair_rows)
        summary["jobs"] = estimate([r["jobs"] for r in pair_rows]).as_json(1)
        for name, digits in FIGURES.items():
            values = [_figure(r, name) for r in pair_rows]
            values = [v for v in values if v == v]  # a run with no delivery has no p99
            summary[name] = estimate(values).as_json(digits) if values else None
        summary["best_compute"] = best[0]
        summary["vs_best_pp"] = versus.as_json(2)
        summary["within_seed_variance"] = None if pair == best else versus.contains_zero()
        out.append(summary)
    return out


def assumptions(config: SimConfig) -> dict[str, Any]:
    """Every assumption as its TOML key and value (the shape ``--config`` reads)."""
    return dataclasses.asdict(config)


def document(
    scenario: str,
    seeds: Sequence[int],
    duration: float,
    window: tuple[float, float] | None,
    config: SimConfig,
    results: Sequence[RunResult],
) -> dict[str, Any]:
    """The JSON of ``--json``."""
    rows = [r.summary for r in results]
    return {
        "scenario": scenario,
        "seed": seeds[0],
        "seeds": list(seeds),
        "duration_s": duration,
        "event_window_s": list(window) if window is not None else None,
        "assumptions": assumptions(config),
        "runs": rows,
        "summary": summarize(rows, seeds),
    }
