"""`wsrelay simulate` on the command-line convention (issue 16): exit 2 for a bad flag or value,
no abbreviated flags, ``--json -`` alone on stdout, outputs checked before any run, exit 3 for
an output that cannot be written, Ctrl-C exits 130 without a traceback, a TOML file and the
flags giving the same `SimConfig`, a help with no empty defaults that works with the ``local``
extra alone; and the inputs it shares with `wsrelay cost` judged by the same rule and words."""

from __future__ import annotations

import argparse
import json
import signal
import subprocess
import sys

import pytest
from cli_support import ENTRY, exit_code
from cli_support import wsrelay_run as wsrelay

from wsrelay.cli import options
from wsrelay.cli.command import Parser
from wsrelay.cli.main import main
from wsrelay.tools.simulate.command import COMMAND
from wsrelay.tools.simulate.parameters import SimConfig

SHORT = ["--scenario", "steady", "--duration-s", "120", "--mean-jobs-per-s", "2", "--peak-factor", "1"]


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="wsrelay simulate")
    COMMAND.add_arguments(p)
    return p


@pytest.mark.parametrize(
    "argv",
    [
        ["--scenario", "steady", "--no-such-flag"],
        ["--scen", "steady"],  # not --scenario
        ["--scenario", "steady", "--duration", "60"],  # not --duration-s
        ["--scenario", "steady", "--keep-warm", "60"],  # not --keep-warm-s
        ["--scenario", "steady", "--plot-dir", "x"],
    ],
)
def test_a_bad_or_abbreviated_flag_exits_2_with_one_line(capsys, argv):
    assert exit_code("simulate", *argv) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.startswith("wsrelay simulate: error: ")


@pytest.mark.processes  # a Python subprocess
def test_json_to_stdout_is_alone_there_and_progress_and_table_go_to_stderr():
    result = wsrelay("simulate", *SHORT, "--json", "-")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)  # nothing but the JSON
    assert len(doc["runs"]) == 9 and doc["assumptions"]["duration_s"] == 120
    assert "run 1/9: ondemand / legacy / seed 1" in result.stderr and "120 simulated" not in result.stdout
    assert "steady, seed 1, 2 simulated minutes" in result.stderr


@pytest.mark.parametrize(
    ("flag", "name", "says"),
    [
        ("--plot", "x.txt", "expected a FILE.png"),
        ("--plot", "noext", "expected a FILE.png"),
        ("--plot", "missing/s.png", "does not exist"),
        ("--json", "missing/s.json", "does not exist"),
        ("--json", ".", "is a folder"),
    ],
)
def test_an_output_that_cannot_be_created_is_refused_before_any_run(capsys, tmp_path, flag, name, says):
    other = ["--json", str(tmp_path / "o.json")] if flag == "--plot" else ["--plot", str(tmp_path / "o.png")]
    assert exit_code("simulate", *SHORT, flag, str(tmp_path / name), *other) == 2
    err = capsys.readouterr().err
    assert says in err and flag in err
    assert "run 1/9" not in err  # refused before the first run
    assert list(tmp_path.iterdir()) == []  # no folder made, nothing written


def test_an_output_that_cannot_be_written_exits_3(capsys, tmp_path):
    link = tmp_path / "s.json"
    link.symlink_to(tmp_path / "gone" / "s.json")  # the folder checks pass; the write fails
    assert exit_code("simulate", *SHORT, "--json", str(link)) == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"wsrelay simulate: error: --json {link}: cannot write"), err
    plot = tmp_path / "s.png"
    plot.symlink_to(tmp_path / "gone" / "s.png")
    assert exit_code("simulate", *SHORT, "--plot", str(plot)) == 3
    assert f"--plot {plot}: cannot write" in capsys.readouterr().err


def test_a_missing_input_file_says_no_such_file(capsys, tmp_path):
    for flag in ("--measured", "--prices", "--config"):
        assert exit_code("simulate", "--scenario", "steady", flag, str(tmp_path / "missing")) == 2
        assert f"{flag} {tmp_path / 'missing'}: no such file" in capsys.readouterr().err


@pytest.mark.processes  # a Python subprocess
def test_ctrl_c_during_a_run_exits_130_without_a_traceback():
    proc = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "simulate", "--scenario", "steady", "--duration-s", "360000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()  # the first run has started (stderr is not a terminal)
        assert "run 1/9" in first, first
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip().splitlines()[-1] == "wsrelay simulate: interrupted"
    assert out == ""


def error_line(capsys, *flags: str) -> str:
    try:
        code = main(["simulate", *flags])
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("wsrelay simulate: error: "), err
    return lines[0]


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--scenario", "flood"], "--scenario"),
        ([], "the following arguments are required: --scenario"),
        (["--scenario", "steady", "--seed", "abc"], "--seed"),
        (["--scenario", "steady", "--seeds", "0"], "--seeds must be at least 1"),
        (["--scenario", "steady", "--duration-s", "-5"], "--duration-s must be a finite number"),
        (["--scenario", "steady", "--duration-s", "20"], "--duration-s 20 is too short"),
        (["--scenario", "steady", "--workers-min", "0"], "--workers-min must be at least 1"),
        (["--scenario", "steady", "--workers-max", "5"], "--workers-max 5 must be at least --workers-min 20"),
        (["--scenario", "steady", "--compile-p99-s", "1"], "--compile-p99-s 1 must be at least"),
        (["--scenario", "steady", "--cold-start-p99-s", "0.1"], "--cold-start-p99-s 0.1 must be at least"),
        (["--scenario", "steady", "--ondemand-share", "2"], "--ondemand-share must be a fraction"),
        (["--scenario", "steady", "--egress", "vpn"], "--egress"),
        (
            ["--scenario", "steady", "--worker-reconnect-tries", "0"],
            "--worker-reconnect-tries must be at least 1",
        ),
        (["--scenario", "steady", "--memory-gib-per-vcpu", "3"], "--memory-gib-per-vcpu must be 2, 4 or 8"),
        (
            ["--scenario", "steady", "--managed-memory-mb", "1024"],
            "--managed-memory-mb must be at least 2048",
        ),
        (["--scenario", "steady", "--managed-memory-mb", "3072"], "a multiple of 2048"),
        (["--scenario", "steady", "--region", "eu-west-1"], "--region eu-west-1: no prices"),
        (["--scenario", "steady", "--region", "moon"], "--region must be an AWS region name"),
        (["--scenario", "steady", "--instance-type", "c9x.large"], "no price for c9x.large"),
        (["--scenario", "steady", "--lmi-target-utilization", "2"], "--lmi-target-utilization must be"),
        (["--scenario", "steady", "--lmi-concurrency", "0"], "--lmi-concurrency must be 1..1600"),
        (["--scenario", "steady", "--cpu-factor", "0"], "--cpu-factor must be a positive"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, flags, says):
    assert says in error_line(capsys, *flags)


def test_bad_files_exit_2_with_one_line(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("workers_min = [")
    assert "not valid TOML" in error_line(capsys, "--scenario", "steady", "--config", str(bad))
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("workers = 3\n")
    assert "unknown key 'workers'" in error_line(capsys, "--scenario", "steady", "--config", str(unknown))
    typed = tmp_path / "typed.toml"
    typed.write_text("routers = 2.5\n")
    assert "routers: expected an integer" in error_line(
        capsys, "--scenario", "steady", "--config", str(typed)
    )
    measured = tmp_path / "measured.json"
    measured.write_text('{"per_job_mean": {}}')
    assert "per-operation" in error_line(capsys, "--scenario", "steady", "--measured", str(measured))
    missing = str(tmp_path / "none.json")
    assert "--measured" in (line := error_line(capsys, "--scenario", "steady", "--measured", missing))
    assert "no such file" in line
    assert "is a folder" in error_line(capsys, "--scenario", "steady", "--json", str(tmp_path))
    assert "expected a FILE.png" in error_line(capsys, "--scenario", "steady", "--plot", str(bad))


def test_toml_config_is_applied(capsys, tmp_path):
    config = tmp_path / "sim.toml"
    config.write_text("duration_s = 120\nmean_jobs_per_s = 1\nrouters = 2\n")
    out = tmp_path / "out.json"
    assert main(["simulate", "--scenario", "steady", "--config", str(config), "--json", str(out)]) == 0
    capsys.readouterr()
    doc = json.loads(out.read_text())
    assert doc["duration_s"] == 120 and all(r["jobs"] < 300 for r in doc["runs"])


def test_the_traffic_defaults_are_wsrelay_costs():
    from wsrelay.tools import traffic
    from wsrelay.tools.cost import defaults

    config = SimConfig()
    assert (config.mean_jobs_per_s, config.peak_factor) == (traffic.MEAN_JOBS_PER_S, traffic.PEAK_FACTOR)
    assert (defaults.MEAN_JOBS_PER_S, defaults.PEAK_FACTOR) == (traffic.MEAN_JOBS_PER_S, traffic.PEAK_FACTOR)


def test_toml_and_flags_give_the_same_config(tmp_path):
    config = tmp_path / "sim.toml"
    config.write_text(
        "duration_s = 600\n"
        "mean_jobs_per_s = 3.5\n"
        "routers = 2\n"
        "keep_warm_s = 120\n"
        "io_wait_ms = 7.5\n"
        "frame_latency_ms = 0\n"
        'instance_type = "m7g.large"\n'
        "managed_memory_mb = 4096\n"
        "memory_gib_per_vcpu = 4\n"
        "lmi_target_utilization = 0.5\n"
    )
    flags = [
        "--duration-s", "600", "--mean-jobs-per-s", "3.5", "--routers", "2", "--keep-warm-s", "120",
        "--io-wait-ms", "7.5", "--frame-latency-ms", "0", "--instance-type", "m7g.large",
        "--managed-memory-mb", "4096", "--memory-gib-per-vcpu", "4", "--lmi-target-utilization", "0.5",
    ]  # fmt: skip
    base = ["--scenario", "steady"]
    from_toml = options.build(SimConfig, parser().parse_args([*base, "--config", str(config)]), config)
    from_flags = options.build(SimConfig, parser().parse_args([*base, *flags]))
    assert from_toml == from_flags and from_toml != SimConfig()
    assert from_toml.routers == 2 and isinstance(from_toml.routers, int)


def test_scenario_and_seed_are_flags_not_toml_keys(capsys, tmp_path):
    config = tmp_path / "sim.toml"
    config.write_text('scenario = "spike"\n')
    assert exit_code("simulate", "--scenario", "steady", "--config", str(config)) == 2
    assert "unknown key 'scenario'" in capsys.readouterr().err


def test_every_flag_has_help_and_no_empty_default():
    p = parser()
    for action in p._actions:
        assert action.help and action.help != argparse.SUPPRESS, action.option_strings
    text = p.format_help()
    assert "(default: None)" not in text and "(default: [])" not in text and "(default: ())" not in text
    assert "{steady,spike,outage,az-loss,throttle,reconnect,cold}" in text and "--keep-warm-s S" in text
    assert "--seeds N" in text and "--ondemand-share X" in text


@pytest.mark.processes  # a Python subprocess
def test_help_works_with_the_local_extra_alone():
    result = wsrelay("simulate", "--help", local_only=True)
    assert result.returncode == 0, result.stderr
    assert "--plot FILE.png" in result.stdout and "--json FILE" in result.stdout


@pytest.mark.processes  # a Python subprocess
def test_without_the_sim_extra_it_says_so_before_any_run():
    result = wsrelay("simulate", *SHORT, local_only=True)
    assert result.returncode == 3 and "needs the 'sim' extra" in result.stderr
    assert "run 1/9" not in result.stderr


# -- the inputs cost and simulate share: one rule, the same words ------------------------------


def error(capsys, tool: str, *argv: str) -> str:
    assert exit_code(tool, *argv) == 2
    line = capsys.readouterr().err.strip()
    prefix = f"wsrelay {tool}: error: "
    assert line.startswith(prefix) and "\n" not in line, line
    return line.removeprefix(prefix)


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--instance-type", "c8g.medium"], "LMI needs size .large or bigger; cheapest eligible: c7g.large"),
        (["--instance-type", "t4g.large"], "LMI runs only C, M and R families"),
        (["--instance-type", "r7g.large"], "no price for r7g.large"),
        (["--managed-memory-mb", "8192", "--memory-gib-per-vcpu", "8"], "cannot hold a 8192 MB environment"),
        (["--region", "moon"], "--region must be an AWS region name"),
        (["--region", "eu-west-1"], "no prices for region 'eu-west-1'"),
        (["--nat-gateways", "-1"], "--nat-gateways must be at least 0"),
        (["--memory-gib-per-vcpu", "3"], "--memory-gib-per-vcpu must be 2, 4 or 8"),
        (["--managed-memory-mb", "1024"], "--managed-memory-mb must be at least 2048"),
        (["--managed-memory-mb", "3072"], "a multiple of 2048"),
        (["--cpu-factor", "0"], "--cpu-factor must be a positive"),
        (["--io-wait-ms", "-1"], "--io-wait-ms must be a finite number, not negative"),
    ],
)
def test_a_shared_input_is_refused_by_both_tools_in_the_same_words(capsys, flags, says):
    cost = error(capsys, "cost", *flags)
    simulate = error(capsys, "simulate", "--scenario", "steady", *flags)
    assert says in cost
    assert cost == simulate
