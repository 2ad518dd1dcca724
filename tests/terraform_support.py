"""What the Terraform tests share: where the module and its examples are, the terraform binary
(CI requires it), python-hcl2's output in one shape (`parse`, `blocks_of`, `references`), running
terraform with no provider and nothing beyond loopback (`terraform`), and the module's
provider-free part evaluated for real (`offline_root`, `apply`, `outputs`)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Mapping
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


_REFERENCE = re.compile(r"\b((?:var|local)\.[A-Za-z0-9_]+|(?:aws|data\.aws)_[A-Za-z0-9_]+\.[A-Za-z0-9_]+)")


def references(expression: Any) -> set[str]:
    """The variables, locals and resources an expression (as python-hcl2 gives it) refers to:
    `var.x`, `local.y`, `aws_type.name`, `data.aws_type.name`."""
    return set(_REFERENCE.findall(json.dumps(expression)))


# -- the provider-free part of the module, applied for real --------------------------------------

# Files of the module that use no provider: variables (with their validations) and compute.tf.
PROVIDER_FREE = ("variables.tf", "compute.tf")
# What every apply passes unless a test overrides it (None leaves a variable unset): the required
# variables, and a VPC because every function defaults to Lambda Managed Instances.
REQUIRED: dict[str, Any] = {
    "name_prefix": "events",
    "package_path": "x.zip",
    "subnet_ids": ["subnet-1"],
    "security_group_ids": ["sg-1"],
}


def offline_root(
    directory: Path, outputs: Mapping[str, str], stand_ins: Mapping[str, str] | None = None
) -> Path:
    """The module's provider-free files in `directory`, a root module needing no provider, with
    one output per `outputs` entry (name -> HCL expression) and `stand_ins` (local -> HCL
    expression) for locals the rest of the module computes from AWS resources."""
    for name in PROVIDER_FREE:
        shutil.copy(MODULE / name, directory)
    text = "".join(
        f'output "{name}" {{\n  value = {expression}\n}}\n' for name, expression in outputs.items()
    )
    if stand_ins:
        text += "locals {\n" + "".join(f"  {k} = {v}\n" for k, v in stand_ins.items()) + "}\n"
    (directory / "offline.tf").write_text(text)
    init = terraform(directory, "init", "-input=false", "-no-color")
    assert init.returncode == 0, init.stderr
    return directory


def apply(root: Path, **variables: Any) -> subprocess.CompletedProcess:
    """`terraform apply` in an offline root: strings go as they are, other values as JSON (which
    is HCL too)."""
    args = ["apply", "-auto-approve", "-input=false", "-no-color"]
    for name, value in {**REQUIRED, **variables}.items():
        if value is not None:
            args += ["-var", f"{name}={value if isinstance(value, str) else json.dumps(value)}"]
    return terraform(root, *args)


def outputs(root: Path) -> dict[str, Any]:
    """The outputs of the last successful apply."""
    shown = terraform(root, "output", "-json", "-no-color")
    return {k: v["value"] for k, v in json.loads(shown.stdout).items()}
