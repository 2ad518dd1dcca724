"""DynamoDB store: the production `Store`, one item per guid on the existing table.

Key design (docs/storage.md), on table ``events-connections`` (hash key ``connectionId`` S,
TTL attribute ``ttl``):

| access pattern | call | key | expression |
|---|---|---|---|
| subscribe | UpdateItem, ALL_NEW | ``guid#<guid>`` | ``ADD subscribers SET ttl`` |
| unsubscribe / 410 | UpdateItem | ``guid#<guid>`` | ``DELETE subscribers SET ttl`` |
| publish | UpdateItem, ALL_OLD | ``guid#<guid>`` | ``SET result, publishedAt, ttl ADD publishers`` |
| withhold an ack | UpdateItem, ALL_NEW | ``guid#<guid>`` | ``DELETE storeAcked SET ttl`` |
| ack | UpdateItem, ALL_NEW | ``guid#<guid>`` | ``SET ackedBy, ttl REMOVE result`` |

Publish is conditional on no ``ackedBy``; ack on ``publishers`` existing. With
``publisher_ack=stored`` publish also ``ADD storeAcked`` (the publishers the relay acks itself);
withholding that ack after all (a failed post) takes the publisher out again.

One round trip each; UpdateItem is a write, so what it returns is strongly consistent and every
interleaving of operations on a guid is ordered by DynamoDB's single-item atomicity. No Scan and
no index query, except in the cutover compatibility mode (``legacy=True``), which also keeps
the legacy Node relay's items (``<connId>#<guid>`` + ``subscription`` read through GSI
``SubscriptionIndex``; ``guid-sender#<guid>`` + ``senderConnectionId``) so that switching to and
from the legacy relay loses nothing in flight.

Expiry: DynamoDB deletes expired items hours late, so every condition treats ``ttl < now`` as
absent. An operation that meets an expired item deletes exactly that expired version
(conditional on its ``ttl``) and runs again: two extra round trips, only after a guid sat unused
for longer than the TTL.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from wsrelay.ports import Channel, Published

ITEM_PREFIX = "guid#"
LEGACY_SENDER_PREFIX = "guid-sender#"
LEGACY_INDEX = "SubscriptionIndex"
_NAMES = {"#ttl": "ttl", "#result": "result"}
_FRESH = "(attribute_not_exists(connectionId) OR #ttl >= :now)"
_MAX_EXPIRED_RETRIES = 3


def _strings(item: dict[str, Any], name: str) -> frozenset[str]:
    value = item.get(name)
    return frozenset(value["SS"]) if value else frozenset()


def _channel(item: dict[str, Any]) -> Channel:
    return Channel(
        subscribers=_strings(item, "subscribers"),
        publishers=_strings(item, "publishers"),
        result=item["result"]["S"] if "result" in item else None,
        published_at=float(item["publishedAt"]["N"]) if "publishedAt" in item else None,
        acked_by=item["ackedBy"]["S"] if "ackedBy" in item else None,
        store_acked=_strings(item, "storeAcked"),
    )


def _is_conditional_failure(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


class DynamoDBStore:
    """The `Store` port on a DynamoDB table, through a low-level boto3 ``dynamodb`` client."""

    def __init__(self, client: Any, table: str, ttl_seconds: int, legacy: bool = False) -> None:
        self.client = client
        self.table = table
        self.ttl_seconds = ttl_seconds
        self.legacy = legacy

    # -- the one-item operations --------------------------------------------------------------

    def _update(
        self,
        guid: str,
        now: float,
        update: str,
        condition: str,
        values: dict[str, Any],
        returns: str = "NONE",
    ) -> dict[str, Any] | None:
        """One conditional UpdateItem on the guid's item, ``:now`` and ``:ttl`` added to `values`.

        Returns the attributes asked for by `returns` ({} for ``NONE``), or None when the
        condition failed because the item is absent; raises `_LiveConditionFailure` when it
        failed on a live item. An expired item is deleted and the update runs again.
        """
        values = {**values, ":now": {"N": str(int(now))}, ":ttl": {"N": str(int(now) + self.ttl_seconds)}}
        names = {alias: name for alias, name in _NAMES.items() if alias in update + condition}
        for _ in range(_MAX_EXPIRED_RETRIES):
            try:
                response = self.client.update_item(
                    TableName=self.table,
                    Key={"connectionId": {"S": ITEM_PREFIX + guid}},
                    UpdateExpression=update,
                    ConditionExpression=condition,
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                    ReturnValues=returns,
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                return response.get("Attributes", {})
            except ClientError as error:
                if not _is_conditional_failure(error):
                    raise
                old = error.response.get("Item")
                if old and int(old["ttl"]["N"]) < int(now):
                    self._delete_expired(guid, int(old["ttl"]["N"]))
                    continue
                if old is None:
                    return None
                raise _LiveConditionFailure(old) from None
        raise RuntimeError(f"item for guid {guid!r} kept expiring under concurrent writes")

    def _delete_expired(self, guid: str, ttl: int) -> None:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"connectionId": {"S": ITEM_PREFIX + guid}},
                ConditionExpression="#ttl = :old",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={":old": {"N": str(ttl)}},
            )
        except ClientError as error:
            # A conditional failure means someone else already replaced the expired version: fine.
            if not _is_conditional_failure(error):
                raise

    def subscribe(self, guid: str, connection_id: str, now: float) -> Channel:
        item = self._update(
            guid,
            now,
            update="ADD subscribers :c SET #ttl = :ttl",
            condition=_FRESH,
            values={":c": {"SS": [connection_id]}},
            returns="ALL_NEW",
        )
        if self.legacy:
            self._legacy_subscribe(guid, connection_id, now)
        return _channel(item or {})

    def unsubscribe(self, guid: str, connection_id: str, now: float) -> None:
        # The condition fails only on an absent item (an expired one is deleted first): nothing
        # to unsubscribe from then, and _update returns None.
        self._update(
            guid,
            now,
            update="DELETE subscribers :c SET #ttl = :ttl",
            condition="attribute_exists(connectionId) AND #ttl >= :now",
            values={":c": {"SS": [connection_id]}},
        )
        if self.legacy:
            self._legacy_unsubscribe(guid, connection_id)

    def publish(
        self, guid: str, connection_id: str, result: str, now: float, ack_on_store: bool = False
    ) -> Published:
        try:
            old = self._update(
                guid,
                now,
                update=(
                    "SET #result = :r, publishedAt = if_not_exists(publishedAt, :published), "
                    "#ttl = :ttl ADD publishers :c" + (", storeAcked :c" if ack_on_store else "")
                ),
                condition=f"{_FRESH} AND attribute_not_exists(ackedBy)",
                values={
                    ":r": {"S": result},
                    ":c": {"SS": [connection_id]},
                    ":published": {"N": repr(round(now, 3))},
                },
                returns="ALL_OLD",
            )
        except _LiveConditionFailure as failure:  # acked before: a resend after a lost ack
            channel = _channel(failure.item)
            return Published(channel.subscribers, channel.acked_by, resend=True)
        channel = _channel(old or {})
        subscribers = channel.subscribers
        legacy_lookup = False
        if self.legacy:
            self._legacy_record_sender(guid, connection_id, now)
            if not subscribers:
                subscribers, legacy_lookup = self._legacy_subscribers(guid), True
        return Published(subscribers, None, resend=bool(channel.publishers), legacy_lookup=legacy_lookup)

    def withhold_ack(self, guid: str, connection_id: str, now: float) -> str | None:
        item = self._update(
            guid,
            now,
            update="DELETE storeAcked :c SET #ttl = :ttl",
            condition="attribute_exists(connectionId) AND #ttl >= :now",
            values={":c": {"SS": [connection_id]}},
            returns="ALL_NEW",
        )
        return _channel(item).acked_by if item else None

    def ack(self, guid: str, connection_id: str, now: float) -> Channel | None:
        try:
            item = self._update(
                guid,
                now,
                update="SET ackedBy = :c, #ttl = :ttl REMOVE #result",
                condition="attribute_exists(publishers) AND #ttl >= :now",
                values={":c": {"S": connection_id}},
                returns="ALL_NEW",
            )
        except _LiveConditionFailure:
            item = None  # the guid exists but nothing was published on it
        if item:
            return _channel(item)
        if self.legacy:
            sender = self._legacy_sender(guid, now)
            if sender is not None:
                return Channel(publishers=frozenset([sender]))
        return None

    # -- cutover compatibility with the legacy Node relay's items -----------------------------

    def _legacy_subscribe(self, guid: str, connection_id: str, now: float) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                "connectionId": {"S": f"{connection_id}#{guid}"},
                "subscription": {"S": guid},
                "ttl": {"N": str(int(now) + self.ttl_seconds)},
            },
        )

    def _legacy_unsubscribe(self, guid: str, connection_id: str) -> None:
        self.client.delete_item(TableName=self.table, Key={"connectionId": {"S": f"{connection_id}#{guid}"}})

    def _legacy_subscribers(self, guid: str) -> frozenset[str]:
        found: set[str] = set()
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": LEGACY_INDEX,
            "KeyConditionExpression": "subscription = :g",
            "ExpressionAttributeValues": {":g": {"S": guid}},
        }
        while True:
            page = self.client.query(**kwargs)
            for item in page.get("Items", []):
                key = item["connectionId"]["S"]
                if key.endswith("#" + guid):
                    found.add(key[: -len(guid) - 1])
            if "LastEvaluatedKey" not in page:
                return frozenset(found)
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _legacy_record_sender(self, guid: str, connection_id: str, now: float) -> None:
        self.client.put_item(
            TableName=self.table,
            Item={
                "connectionId": {"S": LEGACY_SENDER_PREFIX + guid},
                "senderConnectionId": {"S": connection_id},
                "ttl": {"N": str(int(now) + self.ttl_seconds)},
            },
        )

    def _legacy_sender(self, guid: str, now: float) -> str | None:
        item = self.client.get_item(
            TableName=self.table,
            Key={"connectionId": {"S": LEGACY_SENDER_PREFIX + guid}},
            ConsistentRead=True,
        ).get("Item")
        if not item or "senderConnectionId" not in item:
            return None
        if "ttl" in item and int(item["ttl"]["N"]) < int(now):
            return None
        return str(item["senderConnectionId"]["S"])


class _LiveConditionFailure(Exception):
    """A condition failed on a live (unexpired) item; `item` is its state before the call."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("condition failed")
        self.item = item


def create_table(client: Any, table: str, legacy_index: bool = False) -> None:
    """Create the table with the legacy relay's schema (and TTL on ``ttl``); for local and test runs."""
    params: dict[str, Any] = {
        "TableName": table,
        "AttributeDefinitions": [{"AttributeName": "connectionId", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "connectionId", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if legacy_index:
        params["AttributeDefinitions"].append({"AttributeName": "subscription", "AttributeType": "S"})
        params["GlobalSecondaryIndexes"] = [
            {
                "IndexName": LEGACY_INDEX,
                "KeySchema": [{"AttributeName": "subscription", "KeyType": "HASH"}],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ]
    client.create_table(**params)
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1})
    client.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "ttl"}
    )
