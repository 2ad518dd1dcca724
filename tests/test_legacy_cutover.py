"""Cutover compatibility (WSRELAY_LEGACY_SUBSCRIPTIONS=true), tested both ways on moto's server:
the legacy relay's items are found by wsrelay, and wsrelay's writes are found by the legacy
relay's lookups."""

from __future__ import annotations

import time

import pytest
from legacy_support import legacy_publish, legacy_sender, legacy_subscribe, legacy_subscribers

from wsrelay.stores.dynamodb import DynamoDBStore


@pytest.fixture
def legacy_store(dynamodb_client, table):
    return DynamoDBStore(dynamodb_client, table, 600, legacy=True)


def test_switch_to_wsrelay_finds_legacy_subscription(dynamodb_client, table, legacy_store):
    legacy_subscribe(dynamodb_client, table, "ROUTER=", "job-old")
    published = legacy_store.publish("job-old", "WORKER=", '{"guid":"job-old"}', time.time())
    assert published.subscribers == {"ROUTER="}


def test_switch_to_wsrelay_routes_acks_of_legacy_publishes(dynamodb_client, table, legacy_store):
    legacy_publish(dynamodb_client, table, "WORKER=", "job-old")
    channel = legacy_store.ack("job-old", "ROUTER=", time.time())
    assert channel is not None and channel.publishers == {"WORKER="}


def test_rollback_legacy_code_finds_wsrelay_subscriptions(dynamodb_client, table, legacy_store):
    legacy_store.subscribe("job-new", "ROUTER=", time.time())
    assert legacy_subscribers(dynamodb_client, table, "job-new") == {"ROUTER="}
    legacy_store.unsubscribe("job-new", "ROUTER=", time.time())
    assert legacy_subscribers(dynamodb_client, table, "job-new") == set()


def test_rollback_legacy_code_routes_acks_of_wsrelay_publishes(dynamodb_client, table, legacy_store):
    legacy_store.publish("job-new", "WORKER=", "{}", time.time())
    assert legacy_sender(dynamodb_client, table, "job-new") == "WORKER="


def test_legacy_items_carry_a_ttl(dynamodb_client, table, legacy_store):
    legacy_store.subscribe("job-ttl", "R=", time.time())
    item = dynamodb_client.get_item(TableName=table, Key={"connectionId": {"S": "R=#job-ttl"}})["Item"]
    assert int(item["ttl"]["N"]) > time.time()


def test_off_by_default_writes_nothing_old(dynamodb_client, table):
    store = DynamoDBStore(dynamodb_client, table, 600)
    store.subscribe("job-x", "R=", time.time())
    store.publish("job-x", "W=", "{}", time.time())
    assert legacy_subscribers(dynamodb_client, table, "job-x") == set()
    assert legacy_sender(dynamodb_client, table, "job-x") is None
    legacy_subscribe(dynamodb_client, table, "OLD=", "job-y")
    assert store.publish("job-y", "W=", "{}", time.time()).subscribers == frozenset()


def test_handlers_in_legacy_mode_relay_to_a_legacy_subscriber(
    build_functions, moto_endpoint, table, management_api, dynamodb_client
):
    handlers = build_functions(
        WSRELAY_STORE="dynamodb",
        AWS_ENDPOINT_URL_DYNAMODB=moto_endpoint,
        CONNECTIONS_TABLE=table,
        WSRELAY_MANAGEMENT_ENDPOINT=management_api.endpoint,
        WSRELAY_LEGACY_SUBSCRIPTIONS="true",
    )
    legacy_subscribe(dynamodb_client, table, "ROUTER=", "job-h")
    event = {
        "requestContext": {"connectionId": "WORKER=", "routeKey": "$default"},
        "body": '{"guid":"job-h"}',
        "isBase64Encoded": False,
    }
    assert handlers.sendmessage(event, None) == {"statusCode": 200}
    assert management_api.delivered("ROUTER=") == ['{"guid":"job-h"}']
