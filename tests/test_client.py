"""wsrelay.client against `wsrelay serve` (and moto's S3): delivery, acks, resends, reconnects
with resubscribe, S3 offload, fail-fast connects, idle pings and upgrade headers."""

from __future__ import annotations

import asyncio
import json
import random
import urllib.parse
import urllib.request
import uuid

import boto3
import pytest
from client_support import FAST, run
from gateway_support import start
from relay_doubles import scripted_server
from waiting import wait_until_async

from wsrelay.client import (
    Backoff,
    ConnectError,
    Publisher,
    PublisherConfig,
    PublishFailed,
    ResultFetchError,
    ResultTimeout,
    ResultTooLarge,
    S3Config,
    Subscriber,
    SubscriberConfig,
)

pytestmark = pytest.mark.processes


@pytest.fixture(scope="module")
def relay(tmp_path_factory):
    served = start(tmp_path_factory.mktemp("client"), "--quiet")
    yield served
    served.stop()


def guid() -> str:
    return f"t-{uuid.uuid4().hex[:12]}"


def test_result_delivered_verbatim_acked_and_unsubscribed(relay):
    async def scenario():
        config = SubscriberConfig(relay.websocket)
        async with Subscriber(config) as sub, Publisher(PublisherConfig(relay.websocket)) as pub:
            g = guid()
            await sub.subscribe(g)
            ack = await pub.publish(g, {"code": 0, "asm": [{"text": "mov eax, 1 \u2713"}]})
            result = await sub.wait(g, 10)
            return g, ack, result, sub.awaited

    g, ack, result, awaited = run(scenario())
    assert result.data == {"code": 0, "asm": [{"text": "mov eax, 1 \u2713"}], "guid": g}
    assert json.loads(result.raw) == result.data
    assert ack.guid == g and ack.acknowledged_by and ack.sends == 1 and not ack.via_s3
    assert awaited == 0


def test_result_published_before_the_subscribe_is_delivered(relay):
    async def scenario():
        async with Subscriber(SubscriberConfig(relay.websocket)) as sub:
            async with Publisher(PublisherConfig(relay.websocket)) as pub:
                g = guid()
                publishing = asyncio.create_task(pub.publish(g, {"code": 3}))
                await wait_until_async(lambda: pub.pending == 1)
                await sub.subscribe(g)
                result = await sub.wait(g, 10)
                return result, await publishing

    result, ack = run(scenario())
    assert result.data["code"] == 3 and ack.acknowledged_by


def test_no_ack_resends_three_times_then_raises(relay):
    async def scenario():
        config = PublisherConfig(relay.websocket, ack_timeout_s=0.2, max_resends=3)
        async with Publisher(config) as pub:
            with pytest.raises(PublishFailed) as failure:
                await pub.publish(guid(), {"code": 0})  # nobody subscribes: nobody acks
            return failure.value, pub.stats

    failure, stats = run(scenario())
    assert failure.attempts == 4 and "no ack within 0.2 s" in str(failure)
    assert stats.resends == 3


def test_wait_times_out_with_the_guid(relay):
    async def scenario():
        async with Subscriber(SubscriberConfig(relay.websocket)) as sub:
            g = guid()
            await sub.subscribe(g)
            with pytest.raises(ResultTimeout, match=g):
                await sub.wait(g, 0.1)
            return sub.awaited

    assert run(scenario()) == 0


def _close_connection(management: str, connection_id: str) -> None:
    url = f"{management}/@connections/{urllib.parse.quote(connection_id, safe='')}"
    request = urllib.request.Request(url, method="DELETE")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status in (200, 204)


def test_reconnect_mid_wait_resubscribes_and_gets_the_result(relay):
    async def scenario():
        async with Subscriber(SubscriberConfig(relay.websocket, backoff=FAST)) as sub:
            async with Publisher(PublisherConfig(relay.websocket)) as pub:
                first = guid()
                await sub.subscribe(first)
                subscriber_id = (await pub.publish(first, {"code": 0})).acknowledged_by
                awaited = guid()
                await sub.subscribe(awaited)
                # The relay drops the subscriber's connection while it waits. Whether the result
                # is published before or after the reconnect, only the new connection's
                # resubscribe can bring it (the old connection is gone).
                await asyncio.to_thread(_close_connection, relay.management, subscriber_id)
                ack = await pub.publish(awaited, {"code": 7})
                result = await sub.wait(awaited, 10)
                return result, ack, sub.reconnects, subscriber_id

    result, ack, reconnects, old_id = run(scenario())
    assert result.data["code"] == 7
    assert reconnects == 1
    assert ack.acknowledged_by != old_id  # acked from the new connection


def test_unreachable_url_fails_at_once():
    async def scenario():
        with pytest.raises(ConnectError, match="cannot connect"):
            await Subscriber(SubscriberConfig("ws://127.0.0.1:9/nothing")).start()
        with pytest.raises(ConnectError, match="cannot connect"):
            await Publisher(PublisherConfig("ws://127.0.0.1:9/nothing")).start()

    run(scenario())


def test_publisher_gives_up_when_the_relay_stays_away(served):
    server = served("--quiet")

    async def scenario():
        config = PublisherConfig(server.websocket, backoff=Backoff(0.01, 0.02, max_attempts=3))
        async with Publisher(config) as pub:
            server.stop()
            with pytest.raises(PublishFailed, match="gave up reconnecting after 3 attempts"):
                await pub.publish(guid(), {"code": 0})

    run(scenario())


def test_invalid_guid_is_refused_before_sending(relay):
    async def scenario():
        async with Subscriber(SubscriberConfig(relay.websocket)) as sub:
            with pytest.raises(ValueError, match="invalid guid"):
                await sub.subscribe("has space")

    run(scenario())


def test_config_refuses_a_non_websocket_url():
    with pytest.raises(ValueError, match="ws:// or wss://"):
        SubscriberConfig("http://127.0.0.1/")


@pytest.fixture
def bucket(moto_endpoint):
    name = f"results-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1").create_bucket(Bucket=name)
    return S3Config(bucket=name, endpoint_url=moto_endpoint, region="us-east-1")


def test_large_result_travels_via_s3_and_is_merged(relay, bucket):
    rng = random.Random(5)
    big = {
        "code": 0,
        "okToCache": True,
        "execTime": 12,
        "asm": [{"text": str(rng.random())} for _ in range(3000)],
    }

    async def scenario():
        async with Subscriber(SubscriberConfig(relay.websocket, s3=bucket)) as sub:
            async with Publisher(PublisherConfig(relay.websocket, s3=bucket)) as pub:
                g = guid()
                await sub.subscribe(g)
                ack = await pub.publish(g, big)
                return g, ack, await sub.wait(g, 10)

    g, ack, result = run(scenario())
    assert ack.via_s3 and result.from_s3
    assert json.loads(result.raw) == {"guid": g, "s3Key": g, "okToCache": True, "execTime": 12}
    assert result.data == {**big, "guid": g, "s3Key": g}
    s3 = boto3.client("s3", endpoint_url=bucket.endpoint_url, region_name="us-east-1")
    stored = json.loads(s3.get_object(Bucket=bucket.bucket, Key=f"cache/{g}")["Body"].read())
    assert stored["asm"] == big["asm"]


def test_large_result_without_s3_is_refused(relay):
    async def scenario():
        async with Publisher(PublisherConfig(relay.websocket)) as pub:
            with pytest.raises(ResultTooLarge, match="no S3 is set"):
                await pub.publish(guid(), {"stdout": "x" * (32 * 1024)})

    run(scenario())


def test_unreadable_s3_object_fails_the_wait_and_leaves_the_result_unacked(relay, bucket):
    async def scenario():
        g = guid()
        async with Publisher(PublisherConfig(relay.websocket, ack_timeout_s=30)) as pub:
            publishing = asyncio.create_task(
                pub.publish(g, {"guid": g, "s3Key": "missing", "okToCache": False})
            )
            async with Subscriber(SubscriberConfig(relay.websocket, s3=bucket)) as sub:
                await sub.subscribe(g)
                with pytest.raises(ResultFetchError, match="missing"):
                    await sub.wait(g, 10)
            assert not publishing.done()
            # Not acked: the relay still holds it and a new subscriber gets it again.
            async with Subscriber(SubscriberConfig(relay.websocket)) as again:
                await again.subscribe(g)
                light = await again.wait(g, 10)
            return light, await publishing

    light, ack = run(scenario())
    assert light.data["s3Key"] == "missing" and not light.from_s3
    assert ack.acknowledged_by


def test_backoff_is_full_jitter_capped_and_bounded():
    backoff = Backoff(base_s=0.5, cap_s=4.0, max_attempts=5)
    rng = random.Random(1)
    assert [backoff.bound(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.bound(10_000) == 4.0
    delays = [backoff.delay(3, rng) for _ in range(500)]
    assert 0.0 <= min(delays) < 0.5 and 3.5 < max(delays) <= 4.0
    assert not backoff.gives_up_after(4) and backoff.gives_up_after(5)
    assert not Backoff().gives_up_after(10**6)
    with pytest.raises(ValueError):
        Backoff(base_s=0)


def test_s3_completion_rule_and_merge_order(bucket):
    s3 = boto3.client("s3", endpoint_url=bucket.endpoint_url, region_name="us-east-1")
    stored = {"guid": "stale", "okToCache": False, "code": 1, "asm": [{"text": "ret"}]}
    s3.put_object(Bucket=bucket.bucket, Key="cache/obj-1", Body=json.dumps(stored).encode())
    light = {"guid": "light", "s3Key": "obj-1", "okToCache": True, "execTime": 5}
    full = {"guid": "full", "s3Key": "obj-1", "code": 0}  # a result field: not completed from S3

    async def scenario():
        def relay(frame: str) -> list[str]:
            name = frame.removeprefix("subscribe: ")
            return [json.dumps({"light": light, "full": full}[name])] if name != frame else []

        async with scripted_server(relay) as server:
            async with Subscriber(SubscriberConfig(server.url, s3=bucket)) as sub:
                await sub.subscribe("light")
                await sub.subscribe("full")
                return await sub.wait("light", 10), await sub.wait("full", 10), sub.stats.s3_reads

    completed, untouched, reads = run(scenario())
    assert completed.from_s3 and completed.data == {**stored, **light}  # the message wins
    assert not untouched.from_s3 and untouched.data == full and reads == 1
