"""Capacity from measurements: handler CPU time and memory per process (``measured.json``,
written by benchmarks/handler_cpu.py) turned into Lambda durations, LMI execution environments
and instances, and the warning when traffic grows faster than LMI scales.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from wsrelay.cli.checks import UsageError
from wsrelay.tools.cost.inputs import Inputs
from wsrelay.tools.measured import load_measured
from wsrelay.tools.prices import Instance, environments_on

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
    inputs: Inputs, figures: Measured, memory_mb: int, invocations_per_s: float
) -> ManagedSizing:
    """Execution environments an LMI function needs for `invocations_per_s` at the headroom."""
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
    counts = {"minimum": inputs.min_environments, "cpu": by_cpu, "concurrency": by_concurrency}
    limit = max(counts, key=lambda k: (counts[k], k == "minimum"))
    return ManagedSizing(counts[limit], vcpu, memory_mb, processes, limit)


def environments_per_instance(inputs: Inputs, instance: Instance, vcpu: float, memory_mib: int) -> int:
    """How many environments of this size one instance holds after what is held back."""
    return environments_on(instance, vcpu, memory_mib, inputs.reserved_vcpu, inputs.reserved_memory_mib)


def instances_for(inputs: Inputs, instance: Instance, sizings: list[ManagedSizing]) -> int:
    """Instances for all LMI environments of a deployment (fluid packing: a lower bound)."""
    if not sizings:
        return 0
    vcpu = sum(s.environments * s.vcpu_per_environment for s in sizings)
    mib = sum(s.environments * s.memory_mib_per_environment for s in sizings)
    usable_vcpu = instance.vcpu - inputs.reserved_vcpu
    usable_mib = instance.memory_gib * 1024 - inputs.reserved_memory_mib
    needed = math.ceil(max(vcpu / usable_vcpu, mib / usable_mib) - 1e-9)
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
                    f"({r0:g} -> {r1:g} publishes/s between minute {t0:g} and {t1:g}): LMI scales "
                    "asynchronously and may throttle; keep environments for that peak (min_environments)"
                ]
    # Between points the profile is linear: a ramp steeper than doubling per window also counts.
    for (t0, r0), (t1, r1) in itertools.pairwise(points):
        if t1 > t0 and r1 > r0:
            at = r0 + (r1 - r0) * min(1.0, DOUBLING_WINDOW_MIN / (t1 - t0))
            if at > 2 * r0:
                return [
                    f"traffic more than doubles within {DOUBLING_WINDOW_MIN:g} minutes "
                    f"({r0:g} -> {at:g} publishes/s from minute {t0:g}): LMI scales asynchronously "
                    "and may throttle; keep environments for that peak (min_environments)"
                ]
    return []
