"""`wsrelay smoke` finds who acks publishers and reports it: against `wsrelay serve` in ``stored``
mode it checks that a router's ack is not relayed again and skips "a late ack reaches every
publisher"; in ``router`` mode it runs every step."""

from __future__ import annotations

import json

import pytest
from tool_support import SMOKE_STEPS as STEPS
from tool_support import smoke

pytestmark = pytest.mark.processes

LATE_ACK = "a late ack reaches every publisher, also a resend's"


@pytest.mark.parametrize("mode", ["stored", "router"])
def test_smoke_reports_the_publisher_ack_mode(tmp_path, served, mode):
    server = served("--quiet", "--publisher-ack", mode)
    out = tmp_path / "smoke.json"
    done = smoke(server.websocket, "--json", str(out))
    server.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith(f"smoke {server.websocket}: PASSED")
    assert lines[-1].endswith(f"publisher ack: {mode}")
    report = json.loads(out.read_text())
    assert report["passed"] is True and report["publisherAck"] == mode
    steps = {step["name"]: step for step in report["steps"]}
    assert f"publisher ack: {mode}" in steps["connect"]["detail"]
    ack = steps["ack reaches the publisher with acknowledgedBy"]["detail"]
    if mode == "stored":
        assert [line for line in lines if line.startswith("SKIP")] == [
            line for line in lines if LATE_ACK in line
        ]
        assert len([line for line in lines if line.startswith("PASS")]) == STEPS - 1
        assert steps[LATE_ACK]["ok"] and steps[LATE_ACK]["detail"].startswith("skipped: ")
        assert ack == "acknowledgedBy=wsrelay:stored, the router's ack not relayed again"
    else:
        assert len([line for line in lines if line.startswith("PASS")]) == STEPS
        assert steps[LATE_ACK]["detail"] == "both publisher connections got the ack"
        assert "wsrelay:stored" not in ack


def test_an_unreachable_endpoint_reports_no_mode(tmp_path):
    out = tmp_path / "smoke.json"
    done = smoke("ws://127.0.0.1:9/local", "--json", str(out), "--timeout-s", "5")
    assert done.returncode == 3  # could not run: nothing checked, so no mode and no report
    assert not out.exists()
    assert "publisher ack" not in done.stdout + done.stderr
