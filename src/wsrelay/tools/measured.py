"""The handlers' figures as measured by benchmarks/handler_cpu.py (``measured.json``, shipped
beside this module): CPU ms, resident MiB and log bytes per invocation. Shared data of the
tools: `wsrelay cost` and `wsrelay simulate` read it as their defaults."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any


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
