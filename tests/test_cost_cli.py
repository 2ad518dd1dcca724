"""`wsrelay cost` on the command-line convention (issue 16): exit 2 for a bad flag or value, no
abbreviated flags, ``--json -`` alone on stdout, ``--plot FILE.png`` and ``--json FILE``
checked before any work (a missing folder refused, never created), exit 3 for an output that
cannot be written, every file written named on stderr, a TOML file and the flags giving the same
`Inputs`, and a help with no empty defaults that works with the ``local`` extra alone."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from cli_support import exit_code
from cli_support import wsrelay_run as wsrelay

from wsrelay.cli import options
from wsrelay.cli.command import Parser
from wsrelay.cli.main import main
from wsrelay.tools.cost.command import COMMAND
from wsrelay.tools.cost.inputs import Inputs


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="wsrelay cost")
    COMMAND.add_arguments(p)
    return p


@pytest.mark.parametrize(
    "argv",
    [
        ["--no-such-flag"],
        ["--egress-gb", "5"],  # not --egress-gb-month
        ["--egress", "private"],  # nat or public
        ["--mean-jobs", "5"],  # not --mean-jobs-per-s
        ["--min-env", "1"],  # not --min-environments
        ["--form", "markdown"],  # not --format
        ["--format", "json"],  # JSON is --json now
        ["--dynamodb-gateway-endpoint", "false"],  # a boolean is --no-dynamodb-gateway-endpoint
    ],
)
def test_a_bad_or_abbreviated_flag_exits_2_with_one_line(capsys, argv):
    assert exit_code("cost", *argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.startswith("wsrelay cost: error: ")


@pytest.mark.processes  # a Python subprocess
def test_json_to_stdout_is_alone_there_and_the_table_goes_to_stderr():
    result = wsrelay("cost", "--json", "-", "--profile", "0:20,3:60")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)  # nothing but the JSON
    assert doc["scenarios"][0]["name"] == "legacy" and doc["warnings"]
    assert "Monthly cost (USD)" in result.stderr and "warning: traffic more than doubles" in result.stderr
    # the title is on one line, the table not wrapped (stderr is a pipe here)
    assert any(line.strip() == "Monthly cost (USD)" for line in result.stderr.splitlines())


def test_markdown_with_json_to_stdout_goes_to_stderr(capsys):
    assert main(["cost", "--format", "markdown", "--json", "-"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["scenarios"]
    assert captured.err.startswith("**At 2.9 jobs/s the cheapest deployment is")
    assert "\n| scenario |" in captured.err


def test_json_to_a_file_is_named_on_stderr_and_the_table_stays_on_stdout(capsys, tmp_path):
    path = tmp_path / "cost.json"
    assert main(["cost", "--json", str(path)]) == 0
    captured = capsys.readouterr()
    assert "Monthly cost (USD)" in captured.out
    assert captured.err.strip() == f"wsrelay cost: wrote {path}"
    assert json.loads(path.read_text())["inputs"]["instance_type"] == "c8g.large"


@pytest.mark.parametrize(
    ("flag", "name", "says"),
    [
        ("--plot", "x.txt", "expected a FILE.png"),
        ("--plot", "noext", "expected a FILE.png"),
        ("--plot", "missing/c.png", "does not exist"),
        ("--json", "missing/c.json", "does not exist"),
        ("--plot", ".", "expected a FILE.png"),
        ("--json", ".", "is a folder"),
    ],
)
def test_an_output_that_cannot_be_created_is_refused_before_any_work(capsys, tmp_path, flag, name, says):
    path = tmp_path / name
    other = tmp_path / "other.json"  # the other output of the same run: never written
    argv = ["cost", flag, str(path), "--json" if flag == "--plot" else "--plot"]
    argv.append(str(other) if flag == "--plot" else str(tmp_path / "other.png"))
    assert exit_code(*argv) == 2
    err = capsys.readouterr().err
    assert says in err and flag in err
    assert list(tmp_path.iterdir()) == []  # no folder made, nothing written


def test_an_output_that_cannot_be_written_exits_3(capsys, tmp_path):
    for flag, name in (("--json", "c.json"), ("--plot", "c.png")):
        link = tmp_path / name
        link.symlink_to(tmp_path / "gone" / name)  # the folder checks pass; the write fails
        assert exit_code("cost", flag, str(link)) == 3
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith(f"wsrelay cost: error: {flag} {link}: cannot write"), err
    assert not (tmp_path / "gone").exists()


def test_a_missing_input_file_says_no_such_file(capsys, tmp_path):
    for flag in ("--measured", "--prices", "--config"):
        assert exit_code("cost", flag, str(tmp_path / "missing")) == 2
        assert f"{flag} {tmp_path / 'missing'}: no such file" in capsys.readouterr().err


def test_toml_and_flags_give_the_same_inputs(tmp_path):
    config = tmp_path / "inputs.toml"
    config.write_text(
        'region = "us-east-1"\n'
        "mean_jobs_per_s = 5\n"
        "peak_factor = 3.1\n"
        'egress = "nat"\n'
        "nat_gateways = 0\n"
        "min_environments = {sendmessage = 2, onconnect = 0}\n"
        "profile = [[0, 5], [30, 12], [90, 15]]\n"
        "result_sizes = [[200, 0.2], [2048, 0.8]]\n"
        "connection_lifetime_s = 3600\n"
        "io_wait_ms = 12.5\n"
        "egress_gb_month = 40\n"
        "dynamodb_gateway_endpoint = false\n"
        'instance_type = "m7g.large"\n'
        "managed_memory_mb = 4096\n"
        "memory_gib_per_vcpu = 4\n"
        "[functions.sendmessage]\n"
        'compute = "managed"\n'
        "memory_mb = 4096\n"
        "[functions.onconnect]\n"
        'compute = "provisioned"\n'
        "memory_mb = 256\n"
        "provisioned = 2\n"
    )
    flags = [
        "--region", "us-east-1", "--mean-jobs-per-s", "5", "--peak-factor", "3.1",
        "--egress", "nat", "--nat-gateways", "0", "--min-environments", "sendmessage=2,onconnect=0",
        "--profile", "0:5,30:12,90:15", "--result-sizes", "200:0.2,2048:0.8",
        "--connection-lifetime-s", "3600", "--io-wait-ms", "12.5", "--egress-gb-month", "40",
        "--no-dynamodb-gateway-endpoint", "--instance-type", "m7g.large", "--managed-memory-mb", "4096",
        "--memory-gib-per-vcpu", "4", "--functions", "sendmessage=managed:4096",
        "--functions", "onconnect=provisioned:256:2",
    ]  # fmt: skip
    from_toml = options.build(Inputs, parser().parse_args(["--config", str(config)]), config)
    from_flags = options.build(Inputs, parser().parse_args(flags))
    assert from_toml == from_flags
    assert from_toml != Inputs()
    assert from_toml.custom["onconnect"].provisioned == 2
    assert from_toml.dynamodb_gateway_endpoint is False and from_toml.egress_gb_month == 40.0
    # unnamed functions keep AWS's default of 3
    assert dict(from_toml.min_environments) == {"onconnect": 0, "ondisconnect": 3, "sendmessage": 2}
    # the JSON's "inputs" is the same TOML shape
    assert from_toml.as_dict()["functions"]["sendmessage"] == {
        "compute": "managed",
        "memory_mb": 4096,
        "provisioned": 0,
    }


def test_flags_win_over_the_toml_file(tmp_path):
    config = tmp_path / "inputs.toml"
    config.write_text("mean_jobs_per_s = 5\npeak_factor = 10\n")
    args = parser().parse_args(["--config", str(config), "--mean-jobs-per-s", "7"])
    inputs = options.build(Inputs, args, config)
    assert (inputs.mean_jobs_per_s, inputs.peak_factor) == (7.0, 10.0)


def test_a_bad_toml_value_names_the_file_and_key(capsys, tmp_path):
    config = tmp_path / "inputs.toml"
    config.write_text("nat_gateways = -1\n")
    assert exit_code("cost", "--config", str(config)) == 2
    assert f"{config}: nat_gateways must be at least 0" in capsys.readouterr().err


def test_every_flag_has_help_and_no_empty_default():
    p = parser()
    for action in p._actions:
        assert action.help and action.help != argparse.SUPPRESS, action.option_strings
    text = p.format_help()
    assert "(default: None)" not in text and "(default: [])" not in text and "(default: ())" not in text
    assert "{table,markdown}" in text


@pytest.mark.processes  # a Python subprocess
def test_help_works_with_the_local_extra_alone():
    result = wsrelay("cost", "--help", local_only=True)
    assert result.returncode == 0, result.stderr
    assert "--json FILE" in result.stdout and "--plot FILE.png" in result.stdout
    assert "(default: None)" not in result.stdout


@pytest.mark.processes  # a Python subprocess
def test_cost_runs_with_the_local_extra_alone_and_the_plot_needs_sim(tmp_path):
    assert wsrelay("cost", local_only=True).returncode == 0
    result = wsrelay("cost", "--plot", str(tmp_path / "c.png"), local_only=True)
    assert result.returncode == 3 and "needs the 'sim' extra" in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.processes  # a Python subprocess
def test_the_plot_is_checked_for_its_name_before_its_extra(tmp_path):
    result = wsrelay("cost", "--plot", str(tmp_path / "c.txt"), local_only=True)
    assert result.returncode == 2 and "expected a FILE.png" in result.stderr


def test_paths_are_checked_relative_to_the_working_directory(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["cost", "--plot", "c.png", "--json", "c.json"]) == 0
    err = capsys.readouterr().err
    assert "wsrelay cost: wrote c.png" in err and "wsrelay cost: wrote c.json" in err
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["c.json", "c.png"]
