"""`Publisher`: a compile worker's side of the relay, on one long-lived connection.

``await publish(guid, result)`` sends the result, waits for its ack (3 s), resends the same
JSON up to 3 times (the worker's numbers), and returns the `Ack`. Whoever acks: the relay itself
once the result is stored (``publisher_ack=stored``, `Ack.on_store`) or a router's ``ack:``
relayed (``router``); the client works the same in both modes. Results whose JSON exceeds
31 KiB are written to S3 first and ``{guid, s3Key, okToCache, execTime}`` is sent instead, as the
worker does. A lost connection is reopened with backoff and every unacked result is sent again at
once on the new one (the relay acks a resend of an already acked guid at once), without using up
a resend. It raises `PublishFailed` when it gives up: no ack after every resend, or the relay
unreachable for the whole backoff.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wsrelay import protocol
from wsrelay.client.errors import PublishFailed, RelayClientError
from wsrelay.client.link import Link, LinkedClient
from wsrelay.client.options import PublisherConfig
from wsrelay.client.s3 import ResultBucket, light_message


class ResultTooLarge(PublishFailed):
    """A result over the offload threshold with no S3 configured: the relay cannot carry it."""


# A connection lost within this long of a send counts as lost "right after" it (`max_lost_sends`).
LOST_RIGHT_AFTER_S = 1.0


@dataclass(frozen=True, slots=True)
class Ack:
    """The relay's ack: who acknowledged, when it arrived (``time.monotonic()``), how many sends
    it took and whether the result went via S3."""

    guid: str
    acknowledged_by: str
    received_at: float
    sends: int
    via_s3: bool = False

    @property
    def on_store(self) -> bool:
        """True when the relay acked once the result was stored, not a router."""
        return self.acknowledged_by == protocol.STORED_ACKNOWLEDGER


@dataclass(slots=True)
class PublisherStats:
    """Counters: `resends` (after an ack timeout), `reconnect_resends` (after a lost connection),
    `duplicate_acks`, `errors` (``error:`` replies), `s3_writes`."""

    resends: int = 0
    reconnect_resends: int = 0
    duplicate_acks: int = 0
    errors: int = 0
    s3_writes: int = 0
    last_error: str = ""


class Publisher(LinkedClient):
    """The worker's client. Use as ``async with Publisher(config) as pub:`` (or start/close);
    closing makes pending publishes raise `PublishFailed`."""

    def __init__(self, config: PublisherConfig) -> None:
        self.config = config
        self.stats = PublisherStats()
        self._link = Link(config, self._on_frame, on_lost=self._on_lost, give_up=True)
        # guid -> the current send's future: (acknowledgedBy, arrival) on the ack, None when the
        # connection that carried the send was lost first.
        self._pending: dict[str, asyncio.Future[tuple[str, float] | None]] = {}
        self._bucket = ResultBucket(config.s3) if config.s3 is not None else None

    @property
    def pending(self) -> int:
        """Results sent and not yet acked."""
        return len(self._pending)

    async def publish(self, guid: str, result: Mapping[str, Any]) -> Ack:
        """Publish `result` (its ``guid`` is set to `guid`) and return the relay's ack."""
        if not protocol.is_valid_guid(guid):
            raise ValueError(f"invalid guid {guid!r}")
        if guid in self._pending:
            raise ValueError(f"{guid} is already being published")
        body = {**result, "guid": guid}
        text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        via_s3 = len(text.encode("utf-8")) > self.config.offload_threshold
        if via_s3:
            text = await self._offload(guid, text, body)
        try:
            sends, (acknowledged_by, received_at) = await self._send_until_acked(guid, text)
        finally:
            del self._pending[guid]
        return Ack(guid, acknowledged_by, received_at, sends, via_s3)

    async def _offload(self, guid: str, text: str, body: dict[str, Any]) -> str:
        if self._bucket is None:
            raise ResultTooLarge(
                guid,
                0,
                f"{len(text.encode('utf-8'))} bytes exceed {self.config.offload_threshold} and no S3 is set",
            )
        try:
            await self._bucket.put(guid, text)
        except Exception as error:  # boto3's errors: the result never reached the relay
            raise PublishFailed(guid, 0, f"cannot write the result to S3: {error}") from error
        self.stats.s3_writes += 1
        return json.dumps(light_message(guid, guid, body), separators=(",", ":"))

    async def _send_until_acked(self, guid: str, text: str) -> tuple[int, tuple[str, float]]:
        sends = timeouts = lost = 0
        cfg = self.config
        loop = asyncio.get_running_loop()
        while True:
            # One future per send: the ack resolves it, and so does the loss of the connection.
            answer: asyncio.Future[tuple[str, float] | None] = loop.create_future()
            self._pending[guid] = answer
            try:
                await self._link.wait_connected()
            except RelayClientError as error:
                raise PublishFailed(guid, sends, str(error)) from error
            if not await self._link.send(text):
                continue  # the connection died under us: wait for the next one
            sends += 1
            sent_at = loop.time()
            try:
                async with asyncio.timeout(cfg.ack_timeout_s):
                    outcome = await answer
            except TimeoutError:
                timeouts += 1
                if timeouts > cfg.max_resends:
                    raise PublishFailed(
                        guid, sends, f"no ack within {cfg.ack_timeout_s:g} s of each send"
                    ) from None
                self.stats.resends += 1
                continue
            if outcome is None:
                # Only a loss right after the send counts towards giving up: a relay that closes
                # on this very frame (1009) does so at once, while a connection that lived on and
                # dropped later, during a slow ack, says nothing about the result.
                lost = lost + 1 if loop.time() - sent_at <= LOST_RIGHT_AFTER_S else 0
                if lost >= cfg.max_lost_sends:
                    raise PublishFailed(
                        guid, sends, f"the connection was lost after each of {lost} sends in a row"
                    )
                self.stats.reconnect_resends += 1
                continue
            return sends, outcome

    def _on_lost(self) -> None:
        for answer in self._pending.values():
            if not answer.done():
                answer.set_result(None)

    async def _on_frame(self, text: str) -> None:
        if not text.startswith("{"):
            if text.startswith("error:"):
                self.stats.errors += 1
                self.stats.last_error = text
            return
        try:
            message = json.loads(text)
        except ValueError:
            self.stats.errors += 1
            return
        if not isinstance(message, dict) or message.get("type") != "ack":
            return
        future = self._pending.get(message.get("guid"))  # type: ignore[arg-type]
        if future is None or future.done():
            self.stats.duplicate_acks += 1
            return
        future.set_result((str(message.get("acknowledgedBy", "")), time.monotonic()))
