"""`wsrelay serve` start-up: bad flags and unreachable endpoints fail fast and clearly; the
DynamoDB store works end to end against moto's server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys

import pytest
import websockets
from tool_support import serve_once
from waiting import wait_until_async

pytestmark = pytest.mark.processes


serve = serve_once


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--runtime", "lambda"], "--runtime"),
        (["--store", "redis"], "--store"),
        (["--store", "dynamodb"], "--dynamodb-endpoint"),
        (["--post-410", "1.5"], "--post-410"),
        (["--post-429", "-0.1"], "--post-429"),
        (["--drop-disconnect", "2"], "--drop-disconnect"),
        (["--frame-limit", "0"], "--frame-limit"),
        (["--table", "x"], "--table"),
        (["--result-ttl-s", "99999999"], "--result-ttl-s"),
        (["--runtime", "lmi", "--table", "a b"], "--table"),
        (["--idle-timeout-s", "-1"], "--idle-timeout-s"),
        (["--concurrency", "0"], "--concurrency"),
        (["--stage", "a/b"], "--stage"),
        (["--route-selection-expression", "$context.x"], "--route-selection-expression"),
        (["--route", "x=nodots"], "--route"),
        (["--port", "70000"], "--port"),
        (["--post-latency-ms", "abc"], "--post-latency-ms"),
        (["--log-max-mib", "-1"], "--log-max-mib"),
    ],
)
def test_bad_flags_fail_at_start_naming_the_flag(args, named, tmp_path):
    result = serve("--state-dir", str(tmp_path), *args)
    assert result.returncode == 2
    assert named in result.stderr
    assert result.stdout == ""


def test_unreachable_dynamodb_endpoint(tmp_path):
    result = serve(
        "--state-dir", str(tmp_path), "--store", "dynamodb", "--dynamodb-endpoint", "http://127.0.0.1:9"
    )
    assert result.returncode == 3
    assert "cannot reach DynamoDB at http://127.0.0.1:9" in result.stderr


def test_missing_table_without_create_table(tmp_path, moto_endpoint):
    result = serve(
        "--state-dir",
        str(tmp_path),
        "--store",
        "dynamodb",
        "--dynamodb-endpoint",
        moto_endpoint,
        "--table",
        "no-such-table",
    )
    assert result.returncode == 3
    assert "--create-table" in result.stderr


def test_port_in_use(tmp_path, served):
    port = served().websocket.split(":")[2].split("/")[0]
    command = [
        sys.executable,
        "-m",
        "wsrelay.cli",
        "serve",
        "--port",
        port,
        "--state-dir",
        str(tmp_path / "b"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    assert result.returncode == 3 and "cannot listen" in result.stderr


@pytest.mark.parametrize("runtime", ["inprocess", "lmi"])
def test_dynamodb_store_through_the_gateway(served, moto_endpoint, runtime):
    table = f"serve-{runtime}"
    flags = ("--store", "dynamodb", "--dynamodb-endpoint", moto_endpoint, "--create-table", "--table", table)
    server = served(*flags, runtime=runtime)

    async def scenario():
        async with (
            websockets.connect(server.websocket) as router,
            websockets.connect(server.websocket) as worker,
        ):
            await router.send("subscribe: ddb-1")
            await wait_until_async(lambda: server.invocations() == 1, what="the subscribe")
            await worker.send(json.dumps({"guid": "ddb-1"}))
            got = await router.recv()
            await router.send("ack: ddb-1")
            return got, json.loads(await worker.recv())

    got, ack = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert got == '{"guid": "ddb-1"}' and ack["type"] == "ack"
    server.stop()
    import boto3

    client = boto3.client("dynamodb", endpoint_url=moto_endpoint, region_name="us-east-1")
    item = client.get_item(TableName=table, Key={"connectionId": {"S": "guid#ddb-1"}})["Item"]
    assert "ackedBy" in item and "result" not in item
