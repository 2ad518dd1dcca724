"""Capacity from measurements: handler CPU time and memory per process (``measured.json``,
written by benchmarks/handler_cpu.py) turned into Lambda durations, LMI execution environments
and their placement on instances, and the warning when traffic grows faster than LMI scales.

Placement follows what AWS documents (docs/aws-facts.md): a capacity provider launches three
instances by default for AZ resiliency, and one instance runs environments of several functions
of the same capacity provider. Where AWS is silent this module assumes: each function's
environments are spread evenly across the baseline's AZs (one per instance, `min_instances`),
and an environment never spans two instances.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from wsrelay.cli.checks import UsageError
from wsrelay.tools.cost.inputs import Inputs
from wsrelay.tools.measured import load_measured
from wsrelay.tools.prices import Instance

# Lambda gives a function one vCPU's worth of CPU at 1,769 MB and a share in proportion below.
FULL_VCPU_MB = 1769
# LMI scales asynchronously; traffic that more than doubles within this window may throttle.
DOUBLING_WINDOW_MIN = 5.0


@dataclass(frozen=True)
class Measured:
    """Per-invocation figures of the handlers as measured, or as given by flags."""

    cpu_ms: float
    rss_mib: float
    log_bytes: float
    source: str


def measured(inputs: Inputs, data: dict[str, Any] | None = None) -> Measured:
    """Figures for the model: flags win, then measured.json; `UsageError` if neither has one."""
    data = load_measured() if data is None else data
    figures = data.get("per_job_mean", {}) if isinstance(data.get("per_job_mean"), dict) else {}
    values = {}
    for name, key in (
        ("cpu_ms_per_invocation", "cpu_ms"),
        ("rss_mib_per_process", "rss_mib"),
        ("log_bytes_per_invocation", "log_bytes"),
    ):
        given = getattr(inputs, name)
        value = given if given is not None else figures.get(key)
        if not isinstance(value, int | float):
            raise UsageError(
                f"{name}: no measured figure "
                f"(run benchmarks/handler_cpu.py or pass --{name.replace('_', '-')})"
            )
        values[key] = float(value)
    names = ("cpu_ms_per_invocation", "rss_mib_per_process", "log_bytes_per_invocation")
    given = all(getattr(inputs, n) is not None for n in names)
    source = "flags" if given else str(data.get("measured_on", "measured.json"))
    return Measured(values["cpu_ms"], values["rss_mib"], values["log_bytes"], source)


def lambda_duration_s(inputs: Inputs, figures: Measured, memory_mb: int) -> float:
    """Billed duration of one invocation on standard Lambda at `memory_mb` (CPU shrinks below
    one vCPU's worth of memory, I/O waits do not)."""
    share = min(1.0, memory_mb / FULL_VCPU_MB)
    return (inputs.io_wait_ms + figures.cpu_ms * inputs.cpu_factor / share) / 1000.0


@dataclass(frozen=True)
class ManagedSizing:
    """One LMI function sized for a rate of invocations."""

    environments: int
    vcpu_per_environment: float
    memory_mib_per_environment: int
    processes_per_environment: int
    limit: str  # what set the count: "minimum", "cpu" or "concurrency"


def size_managed(
    inputs: Inputs, figures: Measured, memory_mb: int, invocations_per_s: float, minimum: int
) -> ManagedSizing:
    """Execution environments an LMI function needs for `invocations_per_s` at the headroom, and
    at least `minimum` (its MinExecutionEnvironments). With a minimum of 0, LMI still keeps the
    environments the traffic needs: at least one while there is any."""
    vcpu = memory_mb / 1024 / inputs.memory_gib_per_vcpu
    by_memory = (
        int(memory_mb // figures.rss_mib) if figures.rss_mib > 0 else inputs.per_environment_concurrency
    )
    if by_memory < 1:
        raise UsageError(f"a {memory_mb} MB environment cannot hold one {figures.rss_mib:.0f} MiB process")
    processes = min(inputs.per_environment_concurrency, by_memory)
    usable = 1.0 - inputs.headroom
    cpu_s = figures.cpu_ms * inputs.cpu_factor / 1000.0
    by_cpu = math.ceil(invocations_per_s * cpu_s / (vcpu * usable)) if cpu_s > 0 else 0
    busy_s = inputs.io_wait_ms / 1000.0 + cpu_s
    by_concurrency = math.ceil(invocations_per_s * busy_s / (processes * usable))
    counts = {"minimum": minimum, "cpu": by_cpu, "concurrency": by_concurrency}
    limit = max(counts, key=lambda k: (counts[k], k == "minimum"))
    return ManagedSizing(counts[limit], vcpu, memory_mb, processes, limit)


def spread(environments: list[int], zones: int) -> list[list[int]]:
    """Each function's environments per AZ: dealt in turn across `zones` AZs, carrying on from
    where the previous function stopped, so the remainders do not pile up in one AZ."""
    out = [[0] * len(environments) for _ in range(zones)]
    at = 0
    for f, count in enumerate(environments):
        for _ in range(count):
            out[at % zones][f] += 1
            at += 1
    return out


def instances_for(inputs: Inputs, instance: Instance, sizings: list[ManagedSizing]) -> int:
    """Instances for all LMI environments of a deployment: in each AZ, whole environments packed
    first-fit (largest first) on instances of what is left after the reservation; summed over
    the AZs, and at least the baseline (`min_instances`) and `instances`."""
    if not sizings:
        return 0
    usable = (instance.vcpu - inputs.reserved_vcpu, instance.memory_gib * 1024 - inputs.reserved_memory_mib)
    needed = 0
    for zone in spread([s.environments for s in sizings], inputs.min_instances):
        sizes = [
            (s.vcpu_per_environment, float(s.memory_mib_per_environment))
            for n, s in zip(zone, sizings, strict=True)
            for _ in range(n)
        ]
        free: list[list[float]] = []  # vCPU and MiB left on each instance of this AZ
        for vcpu, mib in sorted(sizes, reverse=True):
            room = next((r for r in free if r[0] >= vcpu - 1e-9 and r[1] >= mib - 1e-9), None)
            if room is None:
                room = list(usable)
                free.append(room)
            room[0] -= vcpu
            room[1] -= mib
        needed += len(free)
    return max(inputs.min_instances, inputs.instances, needed)


def doubling_warnings(profile: tuple[tuple[float, float], ...]) -> list[str]:
    """Where the (minute, rate) profile more than doubles within 5 minutes (first case only)."""
    points = list(profile)
    for i, (t0, r0) in enumerate(points):
        for t1, r1 in points[i + 1 :]:
            if t1 - t0 > DOUBLING_WINDOW_MIN:
                break
            if r1 > 2 * r0:
                return [
                    f"traffic more than doubles within {DOUBLING_WINDOW_MIN:g} minutes "
                    f"({r0:g} -> {r1:g} jobs/s between minute {t0:g} and {t1:g}): LMI scales "
                    "asynchronously and may throttle; keep environments for that peak (min_environments)"
                ]
    # Between points the profile is linear: a ramp steeper than doubling per window also counts.
    for (t0, r0), (t1, r1) in itertools.pairwise(points):
        if t1 > t0 and r1 > r0:
            at = r0 + (r1 - r0) * min(1.0, DOUBLING_WINDOW_MIN / (t1 - t0))
            if at > 2 * r0:
                return [
                    f"traffic more than doubles within {DOUBLING_WINDOW_MIN:g} minutes "
                    f"({r0:g} -> {at:g} jobs/s from minute {t0:g}): LMI scales asynchronously "
                    "and may throttle; keep environments for that peak (min_environments)"
                ]
    return []
