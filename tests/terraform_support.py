"""What the Terraform tests share: where the module and its examples are, the terraform binary
(CI requires it), python-hcl2's output in one shape (`parse`, `blocks_of`), and running terraform
with no provider and nothing beyond loopback (`terraform`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2
import pytest

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "terraform" / "modules" / "wsrelay"
EXAMPLES = ROOT / "terraform" / "examples"
TERRAFORM = shutil.which("terraform")
# CI sets WSRELAY_REQUIRE_TERRAFORM=1 (.ci/run): there a missing binary fails instead of skipping.
if TERRAFORM is None and os.environ.get("WSRELAY_REQUIRE_TERRAFORM") == "1":
    raise RuntimeError("WSRELAY_REQUIRE_TERRAFORM=1 but no terraform binary on PATH")
needs_terraform = pytest.mark.skipif(TERRAFORM is None, reason="no terraform binary on PATH")


_OPTIONS = hcl2.SerializationOptions(with_comments=False, strip_string_quotes=True, explicit_blocks=True)


def _is_block(value: Any) -> bool:
    return isinstance(value, dict) and bool(value.get("__is_block__"))


def _block(body: dict[str, Any]) -> dict[str, Any]:
    """One shape for python-hcl2's output: attributes as [value], nested blocks as a list of
    blocks, `dynamic` as [{label: block}]."""
    shaped: dict[str, Any] = {}
    for key, value in body.items():
        if key.startswith("__"):
            continue
        if key == "dynamic":
            shaped[key] = [{label.strip('"'): _block(b) for label, b in entry.items()} for entry in value]
        elif isinstance(value, list) and value and all(_is_block(v) for v in value):
            shaped[key] = [_block(v) for v in value]
        else:
            shaped[key] = [value]
    return shaped


def _labelled(entry: dict[str, Any]) -> dict[str, Any]:
    """`resource "type" "name" {...}` -> {type: {name: block}}, labels unquoted."""
    return {
        label.strip('"'): _block(body) if _is_block(body) else _labelled(body)
        for label, body in entry.items()
        if not label.startswith("__")
    }


def parse(directory: Path) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        with path.open() as handle:
            parsed = hcl2.load(handle, serialization_options=_OPTIONS)
        for key, entries in parsed.items():
            if not key.startswith("__"):
                merged.setdefault(key, []).extend(
                    _block(e) if _is_block(e) else _labelled(e) for e in entries
                )
    return merged


def blocks_of(parsed: dict[str, list[Any]], kind: str) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for entry in parsed.get(kind, []):
        for type_name, named in entry.items():
            for name, body in named.items():
                found[(type_name, name)] = body
    return found


def terraform(directory: Path, *args: str) -> subprocess.CompletedProcess:
    # An empty CLI config (no warning about a missing ~/.terraformrc), and no version check
    # against HashiCorp's checkpoint service: the tests reach nothing beyond loopback.
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        [TERRAFORM, *args], cwd=directory, env=env, capture_output=True, text=True, timeout=120
    )
