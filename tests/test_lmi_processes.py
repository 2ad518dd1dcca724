"""LMI's Python model: concurrent requests are separate OS processes sharing only the store.

Routers subscribe and workers publish in racing processes, then routers ack; every result must
reach its router and every ack its worker (delivered through the real Management API client)."""

from __future__ import annotations

import json
import multiprocessing
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import lmi_worker

pytestmark = pytest.mark.processes

JOBS = 40


@pytest.fixture(params=["sqlite", "dynamodb"])
def store_env(request, tmp_path):
    if request.param == "sqlite":
        return {"WSRELAY_STORE": "sqlite", "WSRELAY_SQLITE_PATH": str(tmp_path / "shared.db")}
    return {
        "WSRELAY_STORE": "dynamodb",
        "AWS_ENDPOINT_URL_DYNAMODB": request.getfixturevalue("moto_endpoint"),
        "CONNECTIONS_TABLE": request.getfixturevalue("table"),
    }


def test_no_result_lost_and_every_ack_routed_across_processes(store_env, management_api, tmp_path):
    env = {
        **store_env,
        "WSRELAY_MANAGEMENT_ENDPOINT": management_api.endpoint,
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "y",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    jobs = [(f"job-{i}", f"R{i}=", f"W{i}=") for i in range(JOBS)]
    first = []
    for guid, router, worker in jobs:
        first.append(("$default", router, f"subscribe: {guid}"))
        first.append(("$default", worker, json.dumps({"guid": guid, "code": 0})))
    random.Random(7).shuffle(first)
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=ctx, initializer=lmi_worker.init, initargs=(env,)) as pool:
        # keep the pool busy until its processes are up (and past their init)
        rendezvous = tmp_path / "warm"
        rendezvous.mkdir()
        calls = [pool.submit(lmi_worker.warm, str(rendezvous), 4) for _ in range(4)]
        warm = {f.result(timeout=120) for f in calls}
        assert len(warm) >= 2
        phase1 = [pool.submit(lmi_worker.invoke, *task) for task in first]
        results = [f.result(timeout=120) for f in phase1]
        acks = [
            pool.submit(lmi_worker.invoke, "$default", router, f"ack: {guid}") for guid, router, _ in jobs
        ]
        results += [f.result(timeout=120) for f in acks]
    assert {status for status, _ in results} == {200}
    assert len({pid for _, pid in results}) > 1  # really served by several processes
    for guid, router, worker in jobs:
        assert json.dumps({"guid": guid, "code": 0}) in management_api.delivered(router), guid
        ack = json.dumps({"type": "ack", "guid": guid, "acknowledgedBy": router}, separators=(",", ":"))
        assert management_api.delivered(worker) == [ack], guid
