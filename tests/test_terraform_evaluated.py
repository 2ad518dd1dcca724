"""The Terraform module, run for real.

- `terraform fmt -check`;
- the provider-free parts (variables with their validations, compute.tf) evaluated for real by
  `terraform apply` in a root module that uses no provider: the `functions` map and its
  defaults, the compute modes, the names, the validations;
- checkov over the module, every skipped check carrying a reason.

Schema and structure: test_terraform_module.py. The contract with src/wsrelay/config.py and
with `wsrelay cost`: test_terraform_contract.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from terraform_support import (
    MODULE,
    ROOT,
    TERRAFORM,
    apply,
    needs_terraform,
    offline_root,
    outputs,
    terraform,
)

pytestmark = pytest.mark.terraform

FUNCTIONS = ("onconnect", "ondisconnect", "sendmessage")


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """variables.tf and compute.tf of the module, in a root module that needs no provider."""
    if TERRAFORM is None:
        pytest.skip("no terraform binary on PATH")
    names = ("function_settings", "managed_functions", "provisioned_functions", "aliased_functions")
    names += ("any_managed", "function_names", "log_group_names", "table_name", "capacity_provider_name")
    return offline_root(tmp_path_factory.mktemp("offline-root"), {n: f"local.{n}" for n in names})


def applied(root: Path, **variables) -> dict:
    result = apply(root, **variables)
    assert result.returncode == 0, result.stderr
    return outputs(root)


@needs_terraform
def test_fmt_check():
    result = terraform(ROOT, "fmt", "-check", "-recursive", "terraform/")
    assert result.returncode == 0, result.stdout + result.stderr


# -- functions ---------------------------------------------------------------------------------


@needs_terraform
def test_one_field_of_one_function_leaves_everything_else_at_its_default(root):
    defaults = applied(root)["function_settings"]
    assert {fn: s["compute"] for fn, s in defaults.items()} == dict.fromkeys(FUNCTIONS, "managed")
    changed = applied(root, functions={"sendmessage": {"max_environments": 40}})["function_settings"]
    assert changed["sendmessage"] == {**defaults["sendmessage"], "max_environments": 40}
    assert {fn: changed[fn] for fn in ("onconnect", "ondisconnect")} == {
        fn: defaults[fn] for fn in ("onconnect", "ondisconnect")
    }


@needs_terraform
def test_memory_follows_the_compute_unless_set(root):
    """LMI's size on LMI, the Lambda size elsewhere; an explicit memory_mb wins either way."""
    lmi = applied(root)["function_settings"]["onconnect"]["memory_mb"]
    out = applied(
        root,
        functions={
            "onconnect": {"compute": "provisioned"},
            "ondisconnect": {"compute": "ondemand", "memory_mb": 256},
        },
    )["function_settings"]
    assert lmi >= 2048 and out["onconnect"]["memory_mb"] < 2048
    assert out["ondisconnect"]["memory_mb"] == 256 and out["sendmessage"]["memory_mb"] == lmi


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
def test_compute_modes_evaluated(root, compute, managed, provisioned, aliased):
    out = applied(root, functions={fn: {"compute": mode} for fn, mode in compute.items()})
    assert sorted(out["managed_functions"]) == managed
    assert sorted(out["provisioned_functions"]) == provisioned
    assert sorted(out["aliased_functions"]) == aliased
    assert out["any_managed"] == bool(managed)
    for fn, name in out["function_names"].items():
        assert name == f"events-{fn}" + ("-lmi" if fn in managed else "")
        assert out["log_group_names"][fn] == f"/aws/lambda/events-{fn}"  # stable across switches


@needs_terraform
def test_no_vpc_is_needed_without_a_managed_function(root):
    no_lmi = {fn: {"compute": "provisioned"} for fn in FUNCTIONS}
    assert apply(root, functions=no_lmi, subnet_ids=[], security_group_ids=[]).returncode == 0
    refused = apply(root, subnet_ids=[], security_group_ids=[])
    assert refused.returncode != 0 and "set subnet_ids" in " ".join(refused.stderr.split())


# -- names -------------------------------------------------------------------------------------


@needs_terraform
def test_names_derive_from_the_prefix_and_the_legacy_names_are_explicit(root):
    names = {}
    for prefix in ("blue", "green"):
        out = applied(root, name_prefix=prefix)
        names[prefix] = {out["table_name"], out["capacity_provider_name"], *out["function_names"].values()}
        assert all(name.startswith(f"{prefix}-") for name in names[prefix])
    assert not names["blue"] & names["green"]  # two stacks never collide
    legacy = applied(root, table_name="events-connections", capacity_provider_name="events-websocket")
    assert (legacy["table_name"], legacy["capacity_provider_name"]) == (
        "events-connections",
        "events-websocket",
    )


# -- validations -------------------------------------------------------------------------------


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
        ([], False),
    ],
)
def test_instance_type_validation(root, types, accepted):
    result = apply(root, allowed_instance_types=types)
    assert (result.returncode == 0) == accepted, result.stderr
    if not accepted:
        assert ".large or bigger" in result.stderr


@needs_terraform
@pytest.mark.parametrize(
    ("functions", "message"),
    [
        ({"sendmesage": {}}, "unknown key(s) sendmesage"),
        ({"onconnect": {"compute": "lmi"}}, '"managed", "provisioned" or "ondemand"'),
        ({"sendmessage": {"memory_mb": 3072}}, "multiple of memory_gib_per_vcpu"),
        (
            {"sendmessage": {"memory_gib_per_vcpu": 4}},
            "multiple of memory_gib_per_vcpu",
        ),  # 2048 is not 4 GiB's
        ({"sendmessage": {"memory_gib_per_vcpu": 3, "memory_mb": 3072}}, "2, 4 or 8"),
        ({"sendmessage": {"memory_mb": 1024}}, "2048..32768"),
        ({"onconnect": {"compute": "ondemand", "memory_mb": 64}}, "128..10240"),
        ({"sendmessage": {"processes_per_environment": 0}}, "1..1600"),
        ({"sendmessage": {"processes_per_environment": 1601}}, "1..1600"),
        ({"sendmessage": {"min_environments": -1}}, "0..15000"),
        ({"sendmessage": {"min_environments": 25}}, "must not exceed max_environments"),
        ({"onconnect": {"compute": "provisioned", "provisioned_concurrency": 0}}, "at least 1"),
    ],
)
def test_functions_validations(root, functions, message):
    result = apply(root, functions=functions)
    assert result.returncode != 0 and message in " ".join(result.stderr.split())


@needs_terraform
@pytest.mark.parametrize(
    "functions",
    [
        {"sendmessage": {"memory_gib_per_vcpu": 4, "memory_mb": 4096}},
        {"sendmessage": {"memory_gib_per_vcpu": 8, "memory_mb": 8192, "processes_per_environment": 64}},
        {"onconnect": {"compute": "ondemand", "memory_mb": 128}, "ondisconnect": {"min_environments": 0}},
        {"sendmessage": {"compute": "provisioned", "provisioned_concurrency": 5}},
    ],
)
def test_functions_accepted(root, functions):
    assert apply(root, functions=functions).returncode == 0


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


# What checkov must have looked at with authorization = "token" (not only skipped wholesale).
TOKEN_RESOURCES = {
    "aws_secretsmanager_secret.auth",
    "aws_lambda_function.authorizer",
    "aws_iam_role_policy.authorizer",
    "aws_lambda_permission.authorizer",
}


@pytest.mark.skipif(_checkov() is None, reason="checkov not installed (make test installs it)")
@pytest.mark.parametrize("authorization", ["none", "token", "iam"])
def test_checkov_passes(tmp_path, authorization):
    """checkov over the module with each `authorization` (a var file, as a caller would set it)."""
    var_file = tmp_path / "authorization.tfvars"
    var_file.write_text(f'authorization = "{authorization}"\n')
    result = subprocess.run(
        [
            _checkov(),
            "-d",
            str(MODULE),
            "--framework",
            "terraform",
            "--var-file",
            str(var_file),
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
    checks = {
        kind: [c for r in reports for c in r.get("results", {}).get(kind, [])]
        for kind in ("failed_checks", "passed_checks", "skipped_checks")
    }
    failed = [c["check_id"] + " " + c["resource"] for c in checks["failed_checks"]]
    assert failed == [], failed
    assert len(checks["passed_checks"]) > 20
    if authorization == "token":
        seen = {c["resource"] for c in checks["passed_checks"] + checks["skipped_checks"]}
        assert seen >= TOKEN_RESOURCES


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
