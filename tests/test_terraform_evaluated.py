"""The Terraform module, run for real.

- `terraform fmt -check`;
- the provider-free parts (variables with their validations, compute.tf) evaluated for real by
  `terraform apply` in a root module that uses no provider;
- checkov over the module, every skipped check carrying a reason.

Schema and structure: test_terraform_module.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from terraform_support import MODULE, ROOT, TERRAFORM, needs_terraform, terraform

pytestmark = pytest.mark.terraform


# -- evaluated for real (terraform with no provider) -----------------------------------------


@pytest.fixture(scope="module")
def offline_root(tmp_path_factory) -> Path:
    """variables.tf and compute.tf of the module, in a root module that needs no provider."""
    if TERRAFORM is None:
        pytest.skip("no terraform binary on PATH")
    root = tmp_path_factory.mktemp("offline-root")
    shutil.copy(MODULE / "variables.tf", root)
    shutil.copy(MODULE / "compute.tf", root)
    (root / "outputs.tf").write_text(
        "\n".join(
            f'output "{name}" {{\n  value = local.{name}\n}}'
            for name in (
                "managed_functions",
                "provisioned_functions",
                "aliased_functions",
                "any_managed",
                "function_names",
                "log_group_names",
            )
        )
    )
    init = terraform(root, "init", "-input=false", "-no-color")
    assert init.returncode == 0, init.stderr
    return root


def apply(root: Path, **variables: Any) -> subprocess.CompletedProcess:
    args = [
        "apply",
        "-auto-approve",
        "-input=false",
        "-no-color",
        "-var",
        "package_path=x.zip",
        "-var",
        "alarm_topic_arn=arn:aws:sns:us-east-1:1:t",
    ]
    for name, value in variables.items():
        args += ["-var", f"{name}={json.dumps(value)}"]
    return terraform(root, *args)


def outputs(root: Path) -> dict[str, Any]:
    shown = terraform(root, "output", "-json", "-no-color")
    return {k: v["value"] for k, v in json.loads(shown.stdout).items()}


@needs_terraform
def test_fmt_check():
    result = terraform(ROOT, "fmt", "-check", "-recursive", "terraform/")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_terraform
@pytest.mark.parametrize(
    ("compute", "managed", "provisioned", "aliased"),
    [
        (
            {"onconnect": "managed", "ondisconnect": "managed", "sendmessage": "managed"},
            ["onconnect", "ondisconnect", "sendmessage"],
            [],
            [],
        ),
        (
            {"onconnect": "provisioned", "ondisconnect": "provisioned", "sendmessage": "managed"},
            ["sendmessage"],
            ["onconnect", "ondisconnect"],
            ["onconnect", "ondisconnect"],
        ),
        (
            {"onconnect": "ondemand", "ondisconnect": "provisioned", "sendmessage": "ondemand"},
            [],
            ["ondisconnect"],
            ["onconnect", "ondisconnect", "sendmessage"],
        ),
    ],
    ids=["all-managed", "cost-critical", "no-lmi"],
)
def test_compute_modes_evaluated(offline_root, compute, managed, provisioned, aliased):
    result = apply(offline_root, compute=compute)
    assert result.returncode == 0, result.stderr
    out = outputs(offline_root)
    assert sorted(out["managed_functions"]) == managed
    assert sorted(out["provisioned_functions"]) == provisioned
    assert sorted(out["aliased_functions"]) == aliased
    assert out["any_managed"] == bool(managed)
    for fn, name in out["function_names"].items():
        assert name == f"events-{fn}" + ("-lmi" if fn in managed else "")
        assert out["log_group_names"][fn] == f"/aws/lambda/events-{fn}"  # stable across switches


@needs_terraform
@pytest.mark.parametrize(
    ("types", "accepted"),
    [
        (["c8g.large"], True),
        (["c8g.large", "m8g.2xlarge", "r7g.xlarge", "c7gn.large"], True),
        (["c8g.medium"], False),
        (["m8g.medium"], False),
        (["t4g.large"], False),
        (["c8g.large", "c8g.small"], False),
    ],
)
def test_instance_type_validation(offline_root, types, accepted):
    result = apply(offline_root, allowed_instance_types=types)
    assert (result.returncode == 0) == accepted, result.stderr
    if not accepted:
        assert ".large or bigger" in result.stderr


@needs_terraform
@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"compute": {"onconnect": "lmi", "ondisconnect": "managed", "sendmessage": "managed"}}, "managed"),
        ({"compute": {"onconnect": "managed"}}, "exactly the keys"),
        ({"managed": {"sendmessage": {"memory_mb": 3072}}}, "multiple of"),
        ({"managed": {"sendmessage": {"memory_gib_per_vcpu": 3}}}, "2, 4 or 8"),
    ],
)
def test_variable_validations(offline_root, variables, message):
    result = apply(offline_root, **variables)
    assert result.returncode != 0 and message in result.stderr


# -- checkov -----------------------------------------------------------------------------------


def _checkov() -> str | None:
    local = ROOT / ".venv-checkov" / "bin" / "checkov"
    return str(local) if local.exists() else shutil.which("checkov")


def test_every_checkov_skip_has_a_reason():
    skips = re.findall(
        r"#checkov:skip=([A-Z0-9_]+)(:?)(.*)", "\n".join(p.read_text() for p in MODULE.glob("*.tf"))
    )
    assert skips
    for check, colon, reason in skips:
        assert colon == ":" and len(reason.strip()) > 20, f"{check} has no reason"


@pytest.mark.skipif(_checkov() is None, reason="checkov not installed (make test installs it)")
def test_checkov_passes():
    result = subprocess.run(
        [
            _checkov(),
            "-d",
            str(MODULE),
            "--framework",
            "terraform",
            "--quiet",
            "--compact",
            "--output",
            "json",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(result.stdout)
    reports = report if isinstance(report, list) else [report]
    failed = [
        c["check_id"] + " " + c["resource"]
        for r in reports
        for c in r.get("results", {}).get("failed_checks", [])
    ]
    assert failed == [], failed
    passed = sum(r.get("summary", {}).get("passed", 0) for r in reports)
    assert passed > 20


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
