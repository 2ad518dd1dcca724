"""Wall time of `wsrelay simulate`: the nine runs (3 compute modes x the legacy relay and wsrelay
with each publisher ack mode) of a scenario for one seed, in one process, against the target of
60 s for a scenario of up to one simulated hour (in proportion beyond); a time over its target is
marked MISSED.

    python benchmarks/simulate_runtime.py [--scenario steady] [--seed 1]
"""

from __future__ import annotations

import argparse
import time

from wsrelay.tools.measured import load_measured, operation_cpu_s
from wsrelay.tools.prices import load
from wsrelay.tools.simulate import model
from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.runs import PAIRS, label_of
from wsrelay.tools.simulate.scenarios import NAMES, Scenario

TARGET_S = 60.0  # for up to one simulated hour


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False
    )
    parser.add_argument("--scenario", choices=NAMES, default="steady")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    config = SimConfig()
    cpu = operation_cpu_s(load_measured())
    prices = load(config.region)
    simulated = Scenario(args.scenario, config).duration
    total = 0.0
    jobs = 0
    for mode, relay, ack in PAIRS:
        started = time.perf_counter()
        result = model.run(config, args.scenario, mode, relay, ack, args.seed, cpu, prices)
        elapsed = time.perf_counter() - started
        total += elapsed
        jobs += result.summary["jobs"]
        print(f"  {mode:<12}{label_of(relay, ack):<16}{elapsed:6.2f} s  {result.summary['jobs']} jobs")
    target = TARGET_S * max(1.0, simulated / 3600)
    mark = "met" if total < target else "MISSED"
    print(
        f"{args.scenario}: {len(PAIRS)} runs of {simulated / 60:g} simulated minutes in {total:.1f} s "
        f"({jobs / total:,.0f} jobs/s simulated); target < {target:g} s: {mark}"
    )


if __name__ == "__main__":
    main()
