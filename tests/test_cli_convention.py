"""The one command-line convention, checked on every subcommand: usage errors exit 2, no
abbreviated flags, help that works with the `local` extra only and shows no empty defaults,
``--version``, the exit code of a missing extra, and serve's exit 3 cases (a busy port, a
state directory another server holds)."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

import wsrelay
from wsrelay.cli.main import build_parser, commands

pytestmark = pytest.mark.processes

NAMES = [command.name for command in commands()]
# What `make serve` does not install: `wsrelay X --help` must not need any of it.
NOT_LOCAL = ("hdrh", "matplotlib", "simpy", "numpy", "psutil", "moto")
BLOCK = "import sys\nfor name in {names!r}:\n    sys.modules[name] = None\n"


def wsrelay_cli(*argv: str, block: tuple[str, ...] = (), timeout: float = 60) -> subprocess.CompletedProcess:
    """``wsrelay ARGV`` in a child process, with the modules in `block` made unimportable."""
    code = BLOCK.format(names=block) + "from wsrelay.cli.main import entry\nsys.exit(entry())\n"
    return subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=timeout
    )


def test_every_subcommand_is_registered():
    assert NAMES == [
        "serve", "smoke", "loadtest", "loadtest-merge", "cost", "simulate", "prune-versions", "token",
        "package",
    ]  # fmt: skip


def test_top_level_help_and_version_need_only_the_local_extra():
    result = wsrelay_cli("--help", block=NOT_LOCAL)
    assert result.returncode == 0, result.stderr
    for name in NAMES:
        assert name in result.stdout
    assert "``" not in result.stdout and ":class:" not in result.stdout  # no RST markup
    version = wsrelay_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"wsrelay {wsrelay.__version__}"


@pytest.mark.parametrize("name", NAMES)
def test_help_of_each_subcommand_needs_only_the_local_extra(name):
    result = wsrelay_cli(name, "--help", block=NOT_LOCAL)
    assert result.returncode == 0, result.stderr
    assert f"usage: wsrelay {name}" in result.stdout
    assert "(default: None)" not in result.stdout and "(default: [])" not in result.stdout
    assert "(default: ())" not in result.stdout and "``" not in result.stdout


def _actions(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


@pytest.mark.parametrize("name", NAMES)
def test_every_flag_has_help_and_durations_carry_their_unit(name):
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    child = sub.choices[name]
    assert child.allow_abbrev is False
    for action in _actions(child):
        assert action.help, f"{name} {action.option_strings or action.dest} has no help"
        if action.metavar == "DURATION":  # the unit is in the value: wsrelay token --ttl 15m
            continue
        for flag in action.option_strings:
            words = flag.lstrip("-").split("-")
            if any(w in ("timeout", "duration", "grace", "delay", "ttl", "lifetime", "warm") for w in words):
                assert words[-1] in ("s", "ms"), f"{name} {flag}: a duration without its unit"


@pytest.mark.parametrize("name", NAMES)
def test_a_bad_flag_exits_2_with_one_line(name):
    result = wsrelay_cli(name, "--no-such-flag", "x")
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"wsrelay {name}: error:") or result.stderr.startswith("usage:")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "prefix"),
    [
        (["serve", "--port", "0", "--idle", "5"], "--idle"),
        (["cost", "--egress-gb", "1"], "--egress-gb"),
        (["simulate", "--scen", "steady"], "--scen"),
        (["smoke", "ws://127.0.0.1:9/x", "--time", "1"], "--time"),
    ],
)
def test_a_mistyped_prefix_is_refused(argv, prefix):
    result = wsrelay_cli(*argv)
    assert result.returncode == 2
    assert prefix in result.stderr and "Traceback" not in result.stderr


def test_a_tool_without_its_extra_exits_3_naming_the_extra(tmp_path):
    result = wsrelay_cli("simulate", "--scenario", "steady", block=("simpy",))
    assert result.returncode == 3, result.stderr
    assert "'sim' extra" in result.stderr and "Traceback" not in result.stderr


def test_serve_on_a_busy_port_exits_3(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = wsrelay_cli("serve", "--port", str(port), "--state-dir", str(tmp_path))
    assert result.returncode == 3
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_a_second_serve_on_the_same_state_dir_fails_at_once_naming_the_first(served):
    first = served()
    port = first.websocket.split(":")[2].split("/")[0]
    began = time.monotonic()
    second = wsrelay_cli("serve", "--port", "0", "--state-dir", str(first.state_dir))
    took = time.monotonic() - began
    assert first.stop() == 0
    assert second.returncode == 3, second.stderr
    line = second.stderr.strip()
    assert len(line.splitlines()) == 1
    assert f"pid {first.proc.pid}" in line and f"port {port}" in line and "--state-dir" in line
    assert took < 10  # at once, not after SQLite's busy timeout
    # The lock goes with its holder: the directory serves again.
    again = served()
    assert again.stop() == 0


def test_serve_stopped_during_start_up_exits_0(tmp_path):
    """A signal that lands while serve imports and starts ends it cleanly, never a traceback."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "wsrelay.cli", "serve", "--port", "0", "--state-dir", str(tmp_path)]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    with subprocess.Popen(command, text=True, env=env, **pipes) as proc:
        proc.send_signal(signal.SIGINT)  # at once: during the interpreter's start or the imports
        _, err = proc.communicate(timeout=60)
    assert proc.returncode in (0, -signal.SIGINT), err  # killed before Python's handler existed
    assert "Traceback" not in err
