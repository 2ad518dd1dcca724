"""`wsrelay prune-versions` against botocore's Stubber (which checks every call against the
real Lambda service model)."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from wsrelay.tools import prune_versions

FN = "events-sendmessage-lmi"


def version(n):
    return {"Version": str(n), "FunctionName": FN}


@pytest.fixture
def lam():
    client = boto3.client("lambda", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stub:
        yield client, stub
        stub.assert_no_pending_responses()


def expect_listing(stub, versions, aliases=(), pc=(), paged=False):
    listed = [{"Version": "$LATEST"}] + [version(n) for n in versions]
    if paged:
        half = len(listed) // 2
        stub.add_response(
            "list_versions_by_function", {"Versions": listed[:half], "NextMarker": "m1"}, {"FunctionName": FN}
        )
        stub.add_response(
            "list_versions_by_function", {"Versions": listed[half:]}, {"FunctionName": FN, "Marker": "m1"}
        )
    else:
        stub.add_response("list_versions_by_function", {"Versions": listed}, {"FunctionName": FN})
    stub.add_response("list_aliases", {"Aliases": list(aliases)}, {"FunctionName": FN})
    stub.add_response(
        "list_provisioned_concurrency_configs",
        {"ProvisionedConcurrencyConfigs": list(pc)},
        {"FunctionName": FN},
    )


def test_deletes_old_versions_but_never_protected_ones(lam, capsys):
    client, stub = lam
    aliases = [
        {"Name": "live", "FunctionVersion": "3", "RoutingConfig": {"AdditionalVersionWeights": {"4": 0.1}}},
    ]
    pc = [{"FunctionArn": f"arn:aws:lambda:us-east-1:1:function:{FN}:5"}]
    expect_listing(stub, range(1, 11), aliases, pc, paged=True)
    for n in (1, 2, 6, 7, 8):
        stub.add_response("delete_function", {}, {"FunctionName": FN, "Qualifier": str(n)})
    assert prune_versions.main([FN, "--keep", "2"], client=client) == 0
    out = capsys.readouterr().out
    assert "keep [3, 4, 5, 9, 10]" in out
    assert "10: protected ($LATEST.PUBLISHED (newest))" in out
    assert "3: protected (alias live)" in out and "4: protected (alias live routing)" in out
    assert "5: protected (provisioned concurrency)" in out


def test_dry_run_deletes_nothing(lam, capsys):
    client, stub = lam
    expect_listing(stub, [1, 2, 3])
    assert prune_versions.main([FN, "--keep", "1", "--dry-run"], client=client) == 0
    out = capsys.readouterr().out
    assert "1: would delete (dry run)" in out and "2: would delete (dry run)" in out


def test_newest_version_survives_any_keep(lam):
    client, stub = lam
    expect_listing(stub, [7])
    decided = prune_versions.plan(client, FN, keep=1)
    assert decided.delete == [] and 7 in decided.protected


def test_a_failed_delete_is_reported_and_the_rest_go_on(lam, capsys):
    client, stub = lam
    expect_listing(stub, [1, 2, 3])
    stub.add_client_error(
        "delete_function",
        "ResourceConflictException",
        "version in use",
        expected_params={"FunctionName": FN, "Qualifier": "1"},
    )
    stub.add_response("delete_function", {}, {"FunctionName": FN, "Qualifier": "2"})
    assert prune_versions.main([FN, "--keep", "1"], client=client) == 1
    out = capsys.readouterr().out
    assert "1: NOT deleted" in out and "ResourceConflictException" in out and "2: deleted" in out


def test_keep_must_be_positive(capsys):
    assert prune_versions.main([FN, "--keep", "0"], client=object()) == 2
    assert "--keep must be at least 1" in capsys.readouterr().err


def test_cli_entry_point(lam, capsys, monkeypatch):
    client, stub = lam
    expect_listing(stub, [1])
    import boto3

    monkeypatch.setattr(boto3, "client", lambda *args, **kwargs: client)
    from wsrelay.cli.main import main

    assert main(["prune-versions", FN, "--keep", "1", "--dry-run"]) == 0
    assert FN in capsys.readouterr().out


def test_unreachable_endpoint_is_one_line_and_exit_3(capsys):
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "lambda",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=0.5),
    )
    assert prune_versions.main([FN, "--keep", "1"], client=client) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("wsrelay prune-versions: error: Could not connect")


@pytest.mark.processes
def test_no_region_or_credentials_is_one_line_and_exit_3(tmp_path):
    import os
    import subprocess
    import sys

    keep = {"PATH", "PYTHONPATH", "HOME", "VIRTUAL_ENV"}
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp_path / "none")
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    for extra, words in (({}, "region"), ({"AWS_DEFAULT_REGION": "us-east-1"}, "credentials")):
        result = subprocess.run(
            [sys.executable, "-m", "wsrelay.cli", "prune-versions", FN, "--keep", "1"],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 3, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0].lower(), result.stderr


@pytest.mark.processes
def test_an_unreachable_aws_through_the_command_exits_3_within_10_s():
    import os
    import subprocess
    import sys
    import time

    env = {**os.environ, "AWS_ENDPOINT_URL_LAMBDA": "http://127.0.0.1:9", "AWS_DEFAULT_REGION": "us-east-1"}
    env |= {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "y"}
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "wsrelay.cli", "prune-versions", FN, "--keep", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 3, result.stderr
    assert time.monotonic() - began < 10
    assert result.stderr.startswith("wsrelay prune-versions: error: Could not connect")


def test_a_function_that_cannot_be_listed_is_reported_and_the_rest_go_on(lam, capsys):
    client, stub = lam
    stub.add_client_error("list_versions_by_function", "ResourceNotFoundException", http_status_code=404)
    expect_listing(stub, [1, 2, 3])
    assert prune_versions.prune(client, ["missing", FN], 1, True, print) == 1
    out = capsys.readouterr().out
    assert "missing: NOT listed" in out and f"{FN}: keep" in out
