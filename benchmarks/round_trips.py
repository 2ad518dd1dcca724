"""DynamoDB round trips per operation, counted on botocore's wire events against moto's server,
for wsrelay and for the legacy Node relay (its calls replayed as its code makes them).

    python benchmarks/round_trips.py
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from _support import local_client, moto_server, target
from rich.console import Console
from rich.table import Table

from wsrelay.stores.dynamodb import LEGACY_INDEX, DynamoDBStore, create_table


class LegacyNodeRelay:
    """The legacy Node relay's DynamoDB calls per operation (its storage: docs/protocol.md)."""

    def __init__(self, client, table: str) -> None:
        self.c, self.t = client, table

    def connect(self, conn: str) -> None:
        ttl = {"N": str(int(time.time()) + 86400)}
        self.c.put_item(TableName=self.t, Item={"connectionId": {"S": conn}, "ttl": ttl})

    def subscribe(self, guid: str, conn: str) -> None:
        item = {"connectionId": {"S": f"{conn}#{guid}"}, "subscription": {"S": guid}}
        self.c.put_item(TableName=self.t, Item=item)

    def unsubscribe(self, guid: str, conn: str) -> None:
        self.c.delete_item(TableName=self.t, Key={"connectionId": {"S": f"{conn}#{guid}"}})

    def publish(self, guid: str, conn: str) -> None:
        self.c.put_item(
            TableName=self.t,
            Item={
                "connectionId": {"S": f"guid-sender#{guid}"},
                "senderConnectionId": {"S": conn},
                "ttl": {"N": str(int(time.time()) + 60)},
            },
        )
        self.c.query(
            TableName=self.t,
            IndexName=LEGACY_INDEX,
            KeyConditionExpression="subscription = :g",
            ExpressionAttributeValues={":g": {"S": guid}},
        )

    def ack(self, guid: str, conn: str) -> None:
        self.c.get_item(TableName=self.t, Key={"connectionId": {"S": f"guid-sender#{guid}"}})

    def disconnect(self, conn: str) -> None:
        page = self.c.scan(
            TableName=self.t,
            FilterExpression="begins_with(connectionId, :c)",
            ExpressionAttributeValues={":c": {"S": conn}},
        )
        for item in page["Items"]:
            self.c.delete_item(TableName=self.t, Key={"connectionId": item["connectionId"]})


def count(client, action: Callable[[], object]) -> tuple[int, str]:
    calls: list[str] = []

    def hook(model, **_):
        calls.append(model.name)

    client.meta.events.register("before-call.dynamodb.*", hook)
    try:
        action()
    finally:
        client.meta.events.unregister("before-call.dynamodb.*", hook)
    return len(calls), " + ".join(calls) or "-"


def measure(client, store: DynamoDBStore) -> dict[str, tuple[int, str]]:
    g, now = uuid.uuid4().hex, time.time()
    return {
        "connect": (0, "-"),
        "subscribe": count(client, lambda: store.subscribe(g, "R", now)),
        "publish": count(client, lambda: store.publish(g, "W", "{}", now)),
        "ack": count(client, lambda: store.ack(g, "R", now)),
        "unsubscribe": count(client, lambda: store.unsubscribe(g, "R", now)),
        "disconnect": (0, "-"),
    }


def main() -> None:
    with moto_server() as url:
        client = local_client("dynamodb", url)
        table = "events-connections"
        create_table(client, table, legacy_index=True)
        ours = DynamoDBStore(client, table, 600)
        legacy = DynamoDBStore(client, table, 600, legacy=True)
        node = LegacyNodeRelay(client, table)
        rows = [("wsrelay", measure(client, ours)), ("wsrelay legacy mode", measure(client, legacy))]
        g = uuid.uuid4().hex
        rows.append(
            (
                "legacy Node relay",
                {
                    "connect": count(client, lambda: node.connect("R")),
                    "subscribe": count(client, lambda: node.subscribe(g, "R")),
                    "publish": count(client, lambda: node.publish(g, "W")),
                    "ack": count(client, lambda: node.ack(g, "R")),
                    "unsubscribe": count(client, lambda: node.unsubscribe(g, "R")),
                    "disconnect": count(client, lambda: node.disconnect("R")),
                },
            )
        )
    ops = ["connect", "subscribe", "publish", "ack", "unsubscribe", "disconnect"]
    grid = Table(title="DynamoDB round trips per operation (counted botocore calls)")
    grid.add_column("implementation")
    for op in ops:
        grid.add_column(op)
    for label, counts in rows:
        grid.add_row(label, *(f"{counts[op][0]}  {counts[op][1]}" for op in ops))
    Console(width=200).print(grid)
    wsrelay = dict(rows)["wsrelay"]
    expected = {"connect": 0, "subscribe": 1, "publish": 1, "ack": 1, "unsubscribe": 1, "disconnect": 0}
    measured = ", ".join(f"{op} {wsrelay[op][0]}" for op in ops)
    met = all(wsrelay[op][0] == calls for op, calls in expected.items())
    print(target(f"wsrelay: one call per guid operation, none on connect/disconnect ({measured})", met))
    print(
        "wsrelay: +1 UpdateItem per stale subscriber removed after a 410; the legacy relay's disconnect "
        "Scan reads one page of the whole table (and deletes each match)."
    )


if __name__ == "__main__":
    main()
