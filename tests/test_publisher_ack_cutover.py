"""``publisher_ack=stored`` through the Lambda face (DynamoDB on moto, the recording Management
API over HTTP), and with the cutover mode: case (b), where the subscribers came from the legacy
relay's eventually consistent index, withholds the ack."""

from __future__ import annotations

import json

import pytest
from legacy_support import legacy_subscribe

from wsrelay import relay as r
from wsrelay.protocol import STORED_ACKNOWLEDGER, ack_frame
from wsrelay.relay import Relay
from wsrelay.stores.dynamodb import DynamoDBStore
from wsrelay.testing.recording_api import RecordingManagementApi


def event(connection_id: str, body: str) -> dict:
    return {
        "requestContext": {"connectionId": connection_id, "routeKey": "$default", "requestId": "r"},
        "body": body,
        "isBase64Encoded": False,
    }


@pytest.fixture
def stored_handlers(build_functions, moto_endpoint, table, management_api):
    return build_functions(
        WSRELAY_STORE="dynamodb",
        AWS_ENDPOINT_URL_DYNAMODB=moto_endpoint,
        CONNECTIONS_TABLE=table,
        WSRELAY_MANAGEMENT_ENDPOINT=management_api.endpoint,
        WSRELAY_PUBLISHER_ACK="stored",
    )


def test_full_cycle_through_the_handlers_in_stored_mode(stored_handlers, management_api, capsys):
    result = '{"guid":"job-1","code":0}'
    stored_handlers.sendmessage(event("ROUTER=", "subscribe: job-1"), None)
    stored_handlers.sendmessage(event("WORKER=", result), None)
    assert management_api.delivered("ROUTER=") == [result]
    assert management_api.delivered("WORKER=") == [ack_frame("job-1", STORED_ACKNOWLEDGER)]
    stored_handlers.sendmessage(event("ROUTER=", "ack: job-1"), None)
    assert management_api.delivered("WORKER=") == [ack_frame("job-1", STORED_ACKNOWLEDGER)]
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    publish, ack = lines[1], lines[2]
    assert publish[r.ACKS_ON_STORE] == 1
    emf = publish["_aws"]["CloudWatchMetrics"][0]["Metrics"]
    assert {"Name": r.ACKS_ON_STORE, "Unit": "Count"} in emf
    assert ack["outcome"] == "ack_settled" and ack[r.ACKS_ROUTED] == 1 and r.ACKS_UNROUTABLE not in ack


def test_failed_post_on_subscribe_closes_the_connection_through_the_management_api(
    stored_handlers, management_api, capsys
):
    management_api.scripts["ROUTER="] = [500]  # every post fails: 5xx after retries
    stored_handlers.sendmessage(event("WORKER=", '{"guid":"job-2"}'), None)
    stored_handlers.sendmessage(event("ROUTER=", "subscribe: job-2"), None)
    assert management_api.deleted == ["ROUTER="]  # DELETE @connections/ROUTER=
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert lines[-1]["outcome"] == "subscribed_delivery_failed"
    assert any("closed ROUTER=" in note for note in lines[-1]["notes"])


def test_a_failed_subscriber_post_withholds_the_ack_with_its_metric(stored_handlers, management_api, capsys):
    management_api.scripts["ROUTER="] = [403]
    stored_handlers.sendmessage(event("ROUTER=", "subscribe: job-3"), None)
    stored_handlers.sendmessage(event("WORKER=", '{"guid":"job-3"}'), None)
    assert management_api.delivered("WORKER=") == []
    publish = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert publish[r.ACKS_WITHHELD] == 1
    assert {"Name": r.ACKS_WITHHELD, "Unit": "Count"} in publish["_aws"]["CloudWatchMetrics"][0]["Metrics"]


class Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def post(self, ids, data):
        from wsrelay.ports import PostReport, PostResult, PostStatus

        self.sent += [(cid, data) for cid in ids]
        return PostReport([PostResult(cid, PostStatus.DELIVERED) for cid in ids])

    def close(self, connection_id):  # pragma: no cover - nothing fails here
        raise AssertionError("no close expected")

    def to(self, cid):
        return [d for c, d in self.sent if c == cid]


def test_b_no_subscriber_on_the_item_withholds_the_ack(dynamodb_client, table):
    """A router subscribed through the legacy relay: the publish finds it in the legacy index
    only, posts to it, and withholds the ack; the legacy router's ack then reaches the worker."""
    out = Recorder()
    relay = Relay(DynamoDBStore(dynamodb_client, table, 600, legacy=True), out, lambda: 1.8e9, None, "stored")
    legacy_subscribe(dynamodb_client, table, "OLD=", "job-b")
    published = relay.receive("W=", '{"guid":"job-b"}')
    assert out.to("OLD=") == ['{"guid":"job-b"}']
    assert out.to("W=") == []
    assert published.counts[r.ACKS_WITHHELD] == 1
    acked = relay.receive("OLD=", "ack: job-b")
    assert out.to("W=") == [ack_frame("job-b", "OLD=")]
    assert acked.counts[r.ACKS_ROUTED] == 1


def test_b_nobody_anywhere_withholds_and_a_resend_reads_the_index_again(dynamodb_client, table):
    out = Recorder()
    relay = Relay(DynamoDBStore(dynamodb_client, table, 600, legacy=True), out, lambda: 1.8e9, None, "stored")
    assert relay.receive("W=", '{"guid":"job-c"}').counts[r.ACKS_WITHHELD] == 1
    legacy_subscribe(dynamodb_client, table, "OLD=", "job-c")  # visible in the index by now
    relay.receive("W=", '{"guid":"job-c"}')  # the worker's resend
    assert out.to("OLD=") == ['{"guid":"job-c"}']
    assert out.to("W=") == []  # still read from the legacy index: still withheld


def test_legacy_on_with_a_subscriber_on_the_item_is_acked(dynamodb_client, table):
    out = Recorder()
    relay = Relay(DynamoDBStore(dynamodb_client, table, 600, legacy=True), out, lambda: 1.8e9, None, "stored")
    relay.receive("NEW=", "subscribe: job-d")
    published = relay.receive("W=", '{"guid":"job-d"}')
    assert out.to("W=") == [ack_frame("job-d", STORED_ACKNOWLEDGER)]
    assert published.counts[r.ACKS_ON_STORE] == 1


def test_management_api_close_answers_closed_gone_and_failed():
    from wsrelay.outbound.management_api import ManagementApiOutbound, client_config
    from wsrelay.ports import PostStatus
    from wsrelay.wiring import local_session

    with RecordingManagementApi() as api:
        client = local_session().client(
            "apigatewaymanagementapi", endpoint_url=api.endpoint, config=client_config()
        )
        outbound = ManagementApiOutbound(client)
        assert outbound.close("C=").status is PostStatus.DELIVERED
        assert outbound.close("C=").status is PostStatus.GONE
        assert outbound.post(["C="], "x").results[0].status is PostStatus.GONE
        endpoint = api.endpoint
    unreachable = local_session().client(
        "apigatewaymanagementapi", endpoint_url=endpoint, config=client_config()
    )
    closed = ManagementApiOutbound(unreachable).close("C=")
    assert closed.status is PostStatus.FAILED and closed.error
