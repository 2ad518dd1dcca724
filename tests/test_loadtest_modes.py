"""`wsrelay loadtest` labels its ack latency (publish -> ack) with the relay's publisher ack mode,
found from the acks the relay sent itself; merged reports keep it, older reports read as router."""

from __future__ import annotations

import json

import pytest
from tool_support import loadtest

from wsrelay.tools.loadtest.report import merge_reports, publisher_ack

pytestmark = pytest.mark.processes


@pytest.mark.parametrize("mode", ["stored", "router"])
def test_the_ack_latency_is_labelled_with_the_mode(tmp_path, served, mode):
    server = served("--quiet", "--publisher-ack", mode)
    out = tmp_path / "run.json"
    done = loadtest(server.websocket, "--rate", "50", "--duration-s", "1", "--json", str(out))
    server.stop()
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"publish -> ack ({mode})" in done.stdout
    report = json.loads(out.read_text())
    assert report["publisher_ack"] == mode and report["acked"] == 50
    assert report["acks_on_store"] == (50 if mode == "stored" else 0)
    again = {**report, "runs": [{**report["runs"][0], "id": "another"}]}  # a run just like it
    twice = merge_reports([report, again])
    assert twice["publisher_ack"] == mode and twice["acks_on_store"] == 2 * report["acks_on_store"]
    older = {key: value for key, value in report.items() if key != "acks_on_store"}
    assert merge_reports([older])["publisher_ack"] == "router"


def test_the_mode_follows_from_the_acks():
    assert publisher_ack(0, 0) is None
    assert publisher_ack(10, 0) == "router"
    assert publisher_ack(10, 10) == "stored"
    assert publisher_ack(10, 7) == "stored"  # resends after a router's ack carry its id
