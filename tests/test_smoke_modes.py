"""`wsrelay smoke` finds who acks publishers and reports it: against `wsrelay serve` in ``stored``
mode it checks that a router's ack is not relayed again and skips "a late ack reaches every
publisher"; in ``router`` mode it runs every step."""

from __future__ import annotations

import json

import pytest
from gateway_support import start
from test_smoke import STEPS, smoke

LATE_ACK = "a late ack reaches every publisher, also a resend's"


@pytest.mark.parametrize("mode", ["stored", "router"])
def test_smoke_reports_the_publisher_ack_mode(tmp_path, mode):
    served = start(tmp_path, "--quiet", "--publisher-ack", mode)
    try:
        out = tmp_path / "smoke.json"
        done = smoke(served.websocket, "--json", str(out))
    finally:
        served.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1].startswith(f"smoke {served.websocket}: PASSED")
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
    done = smoke("ws://127.0.0.1:9/local", "--json", str(out), "--timeout", "5")
    assert done.returncode == 1
    assert json.loads(out.read_text())["publisherAck"] is None
    assert "publisher ack" not in done.stdout.splitlines()[-1]
