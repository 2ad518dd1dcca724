"""API Gateway's side of the connections: which connection ids are open, the frames posted to
them, and `SimOutbound`, the product's `Outbound` port on top of it.

A post's status is decided when the relay calls it, as the Management API answers it: DELIVERED
if the connection is open then, GONE (410) if not. Its frame reaches the client
`frame_latency_ms` later as a SimPy callback; a client that has moved to another connection
meanwhile ignores it (the frame went to a connection that no longer exists). No post ends FAILED
or TOO_LARGE: the model has no 429s, 5xx or oversized results (docs/capacity.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

import simpy

from wsrelay.ports import PostReport, PostResult, PostStatus


class Endpoint(Protocol):
    """A client holding connections: a router or a worker."""

    def on_frame(self, connection_id: str, text: str) -> None:
        """A frame arrived on `connection_id`."""
        ...

    def on_closed(self, connection_id: str) -> None:
        """API Gateway closed `connection_id` (the client sees a close and reconnects)."""
        ...


class Switchboard:
    """Open connections and the frames in flight to them."""

    def __init__(self, env: simpy.Environment, latency_s: float) -> None:
        self.env = env
        self.latency_s = latency_s
        self.open: dict[str, Endpoint] = {}
        self.posts = 0
        self.gone = 0

    def opened(self, connection_id: str, endpoint: Endpoint) -> None:
        """`$connect` succeeded: the connection exists from now."""
        self.open[connection_id] = endpoint

    def closed(self, connection_id: str) -> None:
        """The connection no longer exists (a later post gets 410)."""
        self.open.pop(connection_id, None)

    def post(self, connection_id: str, text: str) -> bool:
        """Post `text` to the connection: True (delivered) if it is open, False (410) if not."""
        self.posts += 1
        endpoint = self.open.get(connection_id)
        if endpoint is None:
            self.gone += 1
            return False
        self.env.timeout(self.latency_s).callbacks.append(
            lambda _event: endpoint.on_frame(connection_id, text)
        )
        return True

    def close(self, connection_id: str) -> bool:
        """Close the connection as ``DELETE @connections/{id}`` does: True if it was open."""
        endpoint = self.open.pop(connection_id, None)
        if endpoint is None:
            return False
        self.env.timeout(self.latency_s).callbacks.append(lambda _event: endpoint.on_closed(connection_id))
        return True


class SimOutbound:
    """The `wsrelay.ports.Outbound` the product's `Relay` posts through in the simulation."""

    def __init__(self, switchboard: Switchboard) -> None:
        self.switchboard = switchboard

    def post(self, connection_ids: Iterable[str], data: str) -> PostReport:
        """Post `data` to every connection; DELIVERED or GONE each, decided now."""
        post = self.switchboard.post
        return PostReport(
            [
                PostResult(cid, PostStatus.DELIVERED if post(cid, data) else PostStatus.GONE)
                for cid in connection_ids
            ]
        )

    def close(self, connection_id: str) -> PostResult:
        """Close the connection: DELIVERED (closed) or GONE (it was already gone)."""
        closed = self.switchboard.close(connection_id)
        return PostResult(connection_id, PostStatus.DELIVERED if closed else PostStatus.GONE)
