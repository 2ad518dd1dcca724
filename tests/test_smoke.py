"""`wsrelay smoke`: every step passes against `wsrelay serve`; a relay that changes the bytes fails
the step that checks them; an unreachable endpoint fails the first step at once (exit 1); bad
flags give one line and exit 2."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys

import pytest
from gateway_support import start
from relay_doubles import echo_relay, scripted_server

from wsrelay.cli.main import main

STEPS = 12


def smoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wsrelay.cli", "smoke", *args], capture_output=True, text=True, timeout=60
    )


def test_every_step_passes_against_the_local_stack(tmp_path):
    served = start(tmp_path, "--quiet")
    try:
        out = tmp_path / "smoke.json"
        done = smoke(served.websocket, "--json", str(out))
    finally:
        served.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert len([line for line in lines if line.startswith("PASS")]) == STEPS
    assert lines[-1].startswith(f"smoke {served.websocket}: PASSED")
    report = json.loads(out.read_text())
    assert report["passed"] is True
    assert [set(step) for step in report["steps"]] == [{"name", "ok", "ms", "detail"}] * STEPS
    assert all(step["ok"] and step["ms"] >= 0 for step in report["steps"])
    names = [step["name"] for step in report["steps"]]
    assert names[0] == "connect" and names[-1] == "disconnect"
    oversized = {step["name"]: step for step in report["steps"]}[
        "oversized message answered with error: or 1009"
    ]
    assert oversized["detail"] == "closed with 1009"  # the local stack enforces API Gateway's frame limit


def test_unreachable_endpoint_fails_the_first_step_at_once(tmp_path):
    out = tmp_path / "smoke.json"
    done = smoke("ws://127.0.0.1:9/local", "--json", str(out), "--timeout", "30")
    assert done.returncode == 1
    report = json.loads(out.read_text())
    assert report["passed"] is False
    first, *rest = report["steps"]
    assert first["name"] == "connect" and not first["ok"] and "cannot connect" in first["detail"]
    assert first["ms"] < 30_000  # refused is an answer: no waiting for the step's timeout
    assert all(not step["ok"] and step["detail"] == "skipped: connect failed" for step in rest)


def test_a_relay_that_rewrites_results_fails_the_byte_check(tmp_path):
    out = tmp_path / "smoke.json"

    async def scenario() -> int:
        async with scripted_server(echo_relay) as server:
            return await asyncio.to_thread(
                main, ["smoke", server.url, "--timeout", "0.5", "--json", str(out)]
            )

    assert asyncio.run(scenario()) == 1
    steps = {step["name"]: step for step in json.loads(out.read_text())["steps"]}
    assert steps["connect"]["ok"] and steps["ping -> pong"]["ok"]
    relay = steps["subscribe, publish, receive the identical bytes"]
    assert not relay["ok"] and "no the identical result within" in relay["detail"]
    assert not steps["ack reaches the publisher with acknowledgedBy"]["ok"]


def test_a_refused_upgrade_fails_the_first_step_naming_the_status(tmp_path):
    out = tmp_path / "smoke.json"

    async def scenario() -> int:
        async with scripted_server(refuse=403) as server:
            return await asyncio.to_thread(main, ["smoke", server.url, "--json", str(out)])

    assert asyncio.run(scenario()) == 1
    first = json.loads(out.read_text())["steps"][0]
    assert not first["ok"] and "HTTP 403" in first["detail"]


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["http://127.0.0.1:3001/local"], "expected ws:// or wss://"),
        (["ws:///local"], "no host"),
        (["ws://127.0.0.1:3001/local", "--timeout", "0"], "--timeout 0: must be positive"),
        (["ws://127.0.0.1:3001/local", "--timeout", "soon"], "--timeout: invalid float value"),
        (["ws://127.0.0.1:3001/local", "--header", "no-colon"], "--header 'no-colon'"),
        (["ws://127.0.0.1:3001/local", "--json", "/nonexistent/dir/x.json"], "does not exist"),
        (["ws://127.0.0.1:3001/local", "--json", "/"], "is a folder, expected a file"),
        (["ws://127.0.0.1:3001/local", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "the following arguments are required: url"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args, problem):
    code, out, err = cli("smoke", *args)
    assert code == 2
    assert out == ""
    # argparse reports an unknown flag from the top-level parser ("wsrelay: error: ...").
    assert len(err.splitlines()) == 1 and re.match(r"wsrelay( smoke)?: error: ", err)
    assert problem in err


def cli(*args: str) -> tuple[int, str, str]:
    """`wsrelay ARGS` in this process: exit status, stdout, stderr (for flag checks: no run)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return code, out.getvalue(), err.getvalue()
