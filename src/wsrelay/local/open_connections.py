"""The local gateway's open connections, and posting to them as the Management API does.

`Connections` is what both the Management API over HTTP and the in-process runtime's outbound
post into: 413 for data over the message limit, 410 for an unknown or closed connection (or an
injected 410, which drops the connection as AWS would only answer for a dead one), 429 for an
injected throttle or a client that stops reading, else the message is queued on the socket.
"""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

from websockets.frames import CloseCode

from wsrelay.local.connection import Connection
from wsrelay.local.faults import Faults
from wsrelay.local.settings import GatewaySettings
from wsrelay.local.stats import GatewayStats

SEND_BUFFER_LIMIT = 4 * 1024 * 1024


def iso_time(epoch_s: float) -> str:
    """API Gateway's time format: ``2026-11-28T06:31:46.123Z``."""
    moment = datetime.datetime.fromtimestamp(epoch_s, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Connections:
    """Open connections by id; `post`, `describe` and `delete` answer with HTTP statuses."""

    def __init__(self, settings: GatewaySettings, stats: GatewayStats, faults: Faults) -> None:
        self.settings = settings
        self.stats = stats
        self.faults = faults
        self.by_id: dict[str, Connection] = {}
        self.accepted = 0  # connections accepted so far: the next one's ordinal is this + 1

    def next_ordinal(self) -> int:
        self.accepted += 1
        return self.accepted

    def add(self, conn: Connection) -> None:
        self.by_id[conn.connection_id] = conn

    def remove(self, conn: Connection) -> None:
        self.by_id.pop(conn.connection_id, None)

    def __len__(self) -> int:
        return len(self.by_id)

    async def post(self, connection_id: str, data: bytes) -> int:
        """Deliver `data` to a connection after the injected latency; the status AWS answers."""
        if self.settings.post_latency_ms:
            await asyncio.sleep(self.settings.post_latency_ms / 1000)
        return self.post_now(connection_id, data)

    def post_now(self, connection_id: str, data: bytes) -> int:
        """`post` without the injected latency, synchronously (on the event loop's thread)."""
        status = self._post_status(connection_id, data)
        self.stats.posts[str(status)] += 1
        return status

    def _post_status(self, connection_id: str, data: bytes) -> int:
        if len(data) > self.settings.message_limit:
            return 413
        conn = self.by_id.get(connection_id)
        if conn is None or not conn.open:
            return 410
        conn.posts += 1
        fault = self.faults.on_post(conn.ordinal, conn.posts)
        if fault == 410:
            conn.abort()
            return 410
        if fault is not None:
            return fault
        if conn.writer.transport.get_write_buffer_size() > SEND_BUFFER_LIMIT:
            return 429  # the client is not reading: AWS answers LimitExceededException
        try:
            conn.send(data)
        except (ConnectionError, RuntimeError):
            return 410
        return 200

    def describe(self, connection_id: str) -> dict[str, Any] | None:
        """``GET @connections/{id}``: the connection's times and identity, None when gone."""
        conn = self.by_id.get(connection_id)
        if conn is None or not conn.open:
            return None
        return {
            "connectedAt": iso_time(conn.info.connected_at_ms / 1000),
            "lastActiveAt": iso_time(conn.last_active),
            "identity": {"sourceIp": conn.info.source_ip, "userAgent": conn.info.user_agent},
        }

    def delete(self, connection_id: str) -> bool:
        """``DELETE @connections/{id}``: close it with 1000; False when it is gone."""
        conn = self.by_id.get(connection_id)
        if conn is None or not conn.open:
            return False
        conn.close(CloseCode.NORMAL_CLOSURE, sent="")  # API Gateway's close frame has no reason
        return True

    def close_all(self) -> None:
        """Shutdown: close every connection with 1001."""
        for conn in list(self.by_id.values()):
            conn.close(CloseCode.GOING_AWAY)
