"""Asyncio clients of the relay: `Subscriber` (what a router does) and `Publisher` (what a compile
worker does), on `websockets`, with reconnects, resubscribes, resends and S3 offload.

See docs/clients.md for an example of each and how they differ from the real clients.
"""

from wsrelay.backoff import Backoff
from wsrelay.client.errors import (
    ClientClosed,
    ConnectError,
    PublishFailed,
    RelayClientError,
    ResultFetchError,
    ResultTimeout,
)
from wsrelay.client.options import ConnectionConfig, PublisherConfig, S3Config, SubscriberConfig, with_token
from wsrelay.client.publisher import Ack, Publisher, PublisherStats, ResultTooLarge
from wsrelay.client.subscriber import Result, Subscriber, SubscriberStats

__all__ = [
    "Ack",
    "Backoff",
    "ClientClosed",
    "ConnectError",
    "ConnectionConfig",
    "PublishFailed",
    "Publisher",
    "PublisherConfig",
    "PublisherStats",
    "RelayClientError",
    "Result",
    "ResultFetchError",
    "ResultTimeout",
    "ResultTooLarge",
    "S3Config",
    "Subscriber",
    "SubscriberConfig",
    "SubscriberStats",
    "with_token",
]
