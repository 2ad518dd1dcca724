"""`wsrelay smoke`: every step passes against `wsrelay serve`; a relay that changes the bytes fails
the step that checks them (exit 1); a refused upgrade fails the first step (exit 1); an
unreachable endpoint cannot be checked at all (exit 3, at once); bad flags give one line and
exit 2. The rest of the command-line convention (``--json -``, Ctrl-C, ``--config``):
tests/test_smoke_convention.py."""

from __future__ import annotations

import asyncio
import json
import re
import time

import pytest
from cli_support import cli
from relay_doubles import echo_relay, scripted_server
from tool_support import SMOKE_STEPS, smoke

from wsrelay.cli.main import main

STEPS = SMOKE_STEPS


@pytest.mark.processes
def test_every_step_passes_against_the_local_stack(tmp_path, served):
    server = served("--quiet")
    out = tmp_path / "smoke.json"
    done = smoke(server.websocket, "--json", str(out))
    server.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stderr == f"wsrelay smoke: wrote {out}\n"
    lines = done.stdout.splitlines()
    assert len([line for line in lines if line.startswith("PASS")]) == STEPS
    assert lines[-1].startswith(f"smoke {server.websocket}: PASSED")
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


@pytest.mark.processes
def test_unreachable_endpoint_cannot_run_and_says_so_at_once(tmp_path):
    out = tmp_path / "smoke.json"
    started = time.monotonic()
    done = smoke("ws://127.0.0.1:9/local", "--json", str(out), "--timeout-s", "30")
    assert done.returncode == 3, done.stderr
    assert time.monotonic() - started < 10  # refused is an answer: no waiting for the step's timeout
    assert done.stdout == "" and len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith("wsrelay smoke: error: cannot connect to ws://127.0.0.1:9/local: ")
    assert not out.exists()  # nothing was checked: no report


def test_a_relay_that_rewrites_results_fails_the_byte_check(tmp_path):
    out = tmp_path / "smoke.json"

    async def scenario() -> int:
        async with scripted_server(echo_relay) as server:
            return await asyncio.to_thread(
                main, ["smoke", server.url, "--timeout-s", "0.5", "--json", str(out)]
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
        (["ws://127.0.0.1:3001/local", "--timeout-s", "0"], "--timeout-s must be a positive finite number"),
        (["ws://127.0.0.1:3001/local", "--timeout-s", "soon"], "--timeout-s: invalid number value"),
        (["ws://127.0.0.1:3001/local", "--timeout-s", "inf"], "--timeout-s: invalid number value"),
        (["ws://127.0.0.1:3001/local", "--header", "no-colon"], "--header 'no-colon'"),
        (["ws://127.0.0.1:3001/local", "--json", "/nonexistent/dir/x.json"], "does not exist"),
        (["ws://127.0.0.1:3001/local", "--json", "/"], "is a folder, expected a file"),
        (["ws://127.0.0.1:3001/local", "--bogus"], "unrecognized arguments: --bogus"),
        ([], "the following arguments are required: URL"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args, problem):
    code, out, err = cli("smoke", *args)
    assert code == 2
    assert out == ""
    # argparse reports an unknown flag from the top-level parser ("wsrelay: error: ...").
    assert len(err.splitlines()) == 1 and re.match(r"wsrelay( smoke)?: error: ", err)
    assert problem in err
