"""What the legacy Node relay writes and reads in DynamoDB, replayed for the cutover tests."""

from __future__ import annotations

import time

from wsrelay.stores.dynamodb import LEGACY_INDEX


def legacy_subscribe(client, table, connection_id, guid):
    """What the legacy Node relay's sendmessage writes on `subscribe: <guid>`."""
    client.put_item(
        TableName=table,
        Item={"connectionId": {"S": f"{connection_id}#{guid}"}, "subscription": {"S": guid}},
    )


def legacy_publish(client, table, connection_id, guid):
    """What the legacy Node relay writes on each publish (the ack route)."""
    client.put_item(
        TableName=table,
        Item={
            "connectionId": {"S": f"guid-sender#{guid}"},
            "senderConnectionId": {"S": connection_id},
            "ttl": {"N": str(int(time.time()) + 60)},
        },
    )


def legacy_subscribers(client, table, guid):
    """The legacy Node relay's subscriber lookup: a Query on the SubscriptionIndex GSI."""
    items = client.query(
        TableName=table,
        IndexName=LEGACY_INDEX,
        KeyConditionExpression="subscription = :g",
        ExpressionAttributeValues={":g": {"S": guid}},
    )["Items"]
    return {item["connectionId"]["S"].split("#", 1)[0] for item in items}


def legacy_sender(client, table, guid):
    item = client.get_item(TableName=table, Key={"connectionId": {"S": f"guid-sender#{guid}"}})
    return item.get("Item", {}).get("senderConnectionId", {}).get("S")
