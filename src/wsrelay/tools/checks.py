"""The checks of the settings `wsrelay cost` and `wsrelay simulate` share (region, LMI memory and
concurrency, Lambda memory, NAT gateways, CPU factor, I/O wait): both tools declare those fields
with these functions, so the same value is refused by both with the same words.

Instance eligibility needs the prices file: `wsrelay.tools.prices.lmi_instance`.
Standard library and `wsrelay.cli.options` only: the tools' settings import it at their top.
"""

from __future__ import annotations

import re

from wsrelay.cli.options import Check, at_least, between, non_negative, positive

REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d+")
MEMORY_GIB_PER_VCPU = (2, 4, 8)  # LMI's execution_environment_memory_gib_per_vcpu
LMI_MIN_MEMORY_MB = 2048
LAMBDA_MEMORY_MB = (128, 10240)


def region(value: str) -> str | None:
    """An AWS region name (whether it has prices is the prices file's to say)."""
    return None if REGION.fullmatch(value) else "must be an AWS region name such as us-east-1"


def memory_gib_per_vcpu(value: int) -> str | None:
    """LMI's memory per vCPU: 2, 4 or 8 GiB."""
    return None if value in MEMORY_GIB_PER_VCPU else "must be 2, 4 or 8"


def managed_memory_mb(value: int) -> str | None:
    """An LMI function's memory on its own (the multiple of its memory per vCPU: `managed_memory`)."""
    return None if value >= LMI_MIN_MEMORY_MB else f"must be at least {LMI_MIN_MEMORY_MB} (LMI's minimum)"


def managed_memory(memory_mb: int, gib_per_vcpu: int) -> str | None:
    """Why an LMI function of `memory_mb` at `gib_per_vcpu` cannot be configured, or None."""
    step = gib_per_vcpu * 1024
    if memory_mb < LMI_MIN_MEMORY_MB or memory_mb % step:
        return (
            f"an LMI function needs at least {LMI_MIN_MEMORY_MB} MB, a multiple of {step} "
            f"(--memory-gib-per-vcpu {gib_per_vcpu}), got {memory_mb}"
        )
    return None


lambda_memory_mb: Check = between(*LAMBDA_MEMORY_MB)  # an on-demand or provisioned function
lmi_concurrency: Check = between(1, 1600)  # per_execution_environment_max_concurrency
nat_gateways: Check = at_least(0)
cpu_factor: Check = positive  # CPU time on the target / on the measuring machine
io_wait_ms: Check = non_negative  # wall time per invocation waiting on DynamoDB and posts
