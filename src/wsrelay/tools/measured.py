"""The handlers' figures as measured by benchmarks/handler_cpu.py (``measured.json``, shipped
beside this module): CPU ms, resident MiB and log bytes per invocation. Shared data of the
tools: `wsrelay cost` and `wsrelay simulate` read it as their defaults, and both judge a
``--measured FILE`` the same way (`read_measured`)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from wsrelay.cli.checks import UsageError, check_input

OPERATIONS = ("subscribe", "publish", "ack", "unsubscribe", "onconnect", "ondisconnect")


def measured_path() -> Path:
    """The figures benchmarks/handler_cpu.py writes (shipped beside this module)."""
    return Path(str(resources.files("wsrelay.tools").joinpath("measured.json")))


def load_measured(path: Path | None = None) -> dict[str, Any]:
    """The raw measured figures, or {} when the benchmark has not been run."""
    try:
        data = json.loads((path or measured_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def read_measured(path: Path | None, flag: str = "--measured") -> dict[str, Any]:
    """The figures of ``--measured FILE`` (None: the shipped ones, {} if never measured);
    `UsageError` saying "no such file", "not JSON" or "not a measured-figures file"."""
    if path is None:
        return load_measured()
    check_input(path, flag)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"{flag} {path}: cannot read: {error.strerror or error}") from None
    except ValueError:
        raise UsageError(f"{flag} {path}: not JSON") from None
    if not isinstance(data, dict) or not ({"per_job_mean", "operations"} & set(data)):
        raise UsageError(
            f"{flag} {path}: not a measured-figures file (no per_job_mean or operations; "
            "benchmarks/handler_cpu.py writes one)"
        )
    return data


def operation_cpu_s(data: dict[str, Any], where: str = "the shipped measured.json") -> dict[str, float]:
    """Median handler CPU seconds of each operation (`OPERATIONS`); `UsageError` if missing."""
    operations = data.get("operations")
    try:
        if not isinstance(operations, dict):
            raise TypeError
        return {op: float(operations[op]["cpu_ms_median"]) / 1000 for op in OPERATIONS}
    except (KeyError, TypeError, ValueError):
        raise UsageError(
            f"{where} has no per-operation handler figures (run benchmarks/handler_cpu.py)"
        ) from None
