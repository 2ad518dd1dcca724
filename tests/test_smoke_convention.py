"""`wsrelay smoke` on the command-line convention: a bad flag or a mistyped prefix exits 2; an
unreachable endpoint exits 3 within 10 s; ``--json -`` puts the JSON alone on stdout; a missing
output folder is refused before any connection; Ctrl-C exits 130 without a traceback;
``--config`` sets the same settings as the flags (flags win)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from cli_support import cli
from relay_doubles import scripted_server
from waiting import wait_until_async

STEPS = 12


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound a moment ago, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smoke(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "wsrelay.cli", "smoke", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    "args",
    [
        ["--no-such-flag"],
        ["--timeout-s"],  # no value
        ["--timeout", "5"],  # the old name, a prefix of --timeout-s: no abbreviations
        ["--time", "5"],
        ["--head", "X: 1"],  # a prefix of --header
        ["--js", "-"],  # a prefix of --json
    ],
)
def test_a_bad_flag_or_a_mistyped_prefix_exits_2_with_one_line(args):
    code, out, err = cli("smoke", "ws://127.0.0.1:9/local", *args)
    assert code == 2, err
    assert out == "" and len(err.splitlines()) == 1 and err.startswith("wsrelay smoke: error: ")


@pytest.mark.processes
def test_an_unreachable_endpoint_exits_3_within_10_s():
    url = f"ws://127.0.0.1:{closed_port()}/local"
    started = time.monotonic()
    done = smoke(url, "--timeout-s", "60")
    assert time.monotonic() - started < 10
    assert done.returncode == 3, done.stderr
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"wsrelay smoke: error: cannot connect to {url}: ")


@pytest.mark.processes
def test_json_to_stdout_is_the_json_alone(served):
    server = served("--quiet")
    done = smoke(server.websocket, "--json", "-")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # nothing else on stdout
    assert report["passed"] is True and report["url"] == server.websocket
    assert len(report["steps"]) == STEPS
    lines = done.stderr.splitlines()  # the step lines and the summary went to stderr
    assert len([line for line in lines if line.startswith("PASS")]) == STEPS
    assert lines[-1].startswith(f"smoke {server.websocket}: PASSED")
    assert "wrote" not in done.stderr


@pytest.mark.parametrize("path", ["missing/smoke.json", "."])
def test_a_bad_output_path_is_refused_before_any_connection(path, tmp_path):
    async def scenario() -> tuple[tuple[int, str, str], int]:
        async with scripted_server() as server:
            result = await asyncio.to_thread(cli, "smoke", server.url, "--json", str(tmp_path / path))
            return result, len(server.headers)

    started = time.monotonic()
    (code, out, err), upgrades = asyncio.run(scenario())
    assert code == 2 and out == "" and "--json" in err and len(err.splitlines()) == 1
    assert upgrades == 0  # refused before any work
    assert time.monotonic() - started < 5
    assert list(tmp_path.iterdir()) == []  # no folder created, nothing written


@pytest.mark.processes
def test_ctrl_c_during_a_step_exits_130_without_a_traceback():
    """A relay that accepts connections and never answers: smoke waits for a pong (60 s), and a
    Ctrl-C (SIGINT to the process group, as a terminal sends it) ends it at once."""

    async def scenario() -> tuple[int | None, str, str]:
        async with scripted_server() as server:
            proc = await asyncio.create_subprocess_exec(
                *[sys.executable, "-m", "wsrelay.cli", "smoke", server.url, "--timeout-s", "60"],
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
            try:
                await wait_until_async(lambda: "ping" in server.frames, timeout=30, what="smoke's ping")
                os.killpg(proc.pid, signal.SIGINT)
                out, err = await asyncio.wait_for(proc.communicate(), 30)
            finally:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()
            return proc.returncode, out.decode(), err.decode()

    code, out, err = asyncio.run(scenario())
    assert code == 130, err
    assert err == "wsrelay smoke: interrupted\n"
    assert (
        "Traceback" not in out + err
    )  # interrupted inside the connect step (its mode check waits on a pong)


def test_config_file_sets_the_settings_and_flags_win(tmp_path):
    config = tmp_path / "smoke.toml"
    config.write_text('timeout_s = 0.2\nheader = ["X-Token: from-toml"]\n')

    async def scenario(*flags: str) -> tuple[int, list[dict[str, str]]]:
        async with scripted_server() as server:  # never answers: every step times out
            code, _, _ = await asyncio.to_thread(cli, "smoke", server.url, "--config", str(config), *flags)
            return code, server.headers

    started = time.monotonic()
    code, headers = asyncio.run(scenario())
    assert code == 1 and time.monotonic() - started < 20  # 0.2 s steps, not the default 5 s
    assert headers and all(h.get("X-Token") == "from-toml" for h in headers)
    code, headers = asyncio.run(scenario("--header", "X-Token: from-flag"))
    assert code == 1 and all(h.get("X-Token") == "from-flag" for h in headers)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("timeout_s = 0\n", "timeout_s must be a positive finite number, got 0"),
        ("timeout = 5\n", "unknown key 'timeout'"),
        ('header = ["no colon"]\n', "--header 'no colon'"),
        ("timeout_s = [\n", "not valid TOML"),
    ],
)
def test_a_bad_config_file_exits_2_naming_the_key(content, problem, tmp_path):
    config = tmp_path / "smoke.toml"
    config.write_text(content)
    code, out, err = cli("smoke", "ws://127.0.0.1:9/local", "--config", str(config))
    assert code == 2 and out == "" and problem in err and len(err.splitlines()) == 1
