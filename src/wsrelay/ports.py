"""The two ports the relay logic runs over, and the values that cross them.

- `Store`: the per-guid channel (subscribers, publishers, the stored result, the ack), one
  linearizable record per guid (see docs/storage.md). Adapters: `wsrelay.stores.dynamodb`,
  `wsrelay.stores.sqlite_shared`, `wsrelay.local.runtimes.inprocess.store`.
- `Outbound`: post a frame to connections, and close one. Adapters:
  `wsrelay.outbound.management_api` (API Gateway's Management API over HTTPS) and the local
  gateway's own connections.

Every timestamp is seconds since the epoch as a float, passed in by the caller, so the relay and
the stores stay deterministic under test.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Channel:
    """The state of one guid after an operation on it."""

    subscribers: frozenset[str] = frozenset()
    publishers: frozenset[str] = frozenset()
    result: str | None = None
    published_at: float | None = None
    acked_by: str | None = None
    # Publishers the relay acked itself once the result was stored (``publisher_ack=stored``):
    # a subscriber's ack is not relayed to them again.
    store_acked: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Published:
    """What a publish found.

    `already_acked_by` is set when the guid had been acked before this publish (a resend after a
    lost ack): the result was not stored again and must not be relayed. `resend` is True when the
    guid had been published before (by any connection). `legacy_lookup` is True when the
    subscribers came from the legacy relay's eventually consistent index because the guid's own
    item had none (cutover mode only): an empty answer there may be stale.
    """

    subscribers: frozenset[str]
    already_acked_by: str | None = None
    resend: bool = False
    legacy_lookup: bool = False


class Store(Protocol):
    """Connections and per-guid channels. Every method is one atomic step on one guid."""

    def subscribe(self, guid: str, connection_id: str, now: float) -> Channel:
        """Add `connection_id` to the guid's subscribers; return the channel after it."""
        ...

    def unsubscribe(self, guid: str, connection_id: str, now: float) -> None:
        """Remove `connection_id` from the guid's subscribers (no-op if absent)."""
        ...

    def publish(
        self, guid: str, connection_id: str, result: str, now: float, ack_on_store: bool = False
    ) -> Published:
        """Store `result` and add `connection_id` to the publishers, unless already acked.

        With `ack_on_store`, `connection_id` is also recorded as acked by the relay
        (`Channel.store_acked`) in the same write: the relay is about to ack it, and recording it
        afterwards would cost a second round trip on every publish.
        """
        ...

    def withhold_ack(self, guid: str, connection_id: str, now: float) -> str | None:
        """Take `connection_id` out of the store-acked publishers (the relay withheld its ack
        after all); return who acked the guid meanwhile, if anyone (then ack it at once)."""
        ...

    def ack(self, guid: str, connection_id: str, now: float) -> Channel | None:
        """Mark the guid acked by `connection_id` and drop the result.

        Returns None when nothing was ever published for the guid (the ack cannot be routed).
        """
        ...


class PostStatus(enum.Enum):
    """How a post to one connection ended (after the adapter's bounded retries)."""

    DELIVERED = "delivered"
    GONE = "gone"  # 410: the connection no longer exists
    TOO_LARGE = "too_large"  # 413: the frame is over the gateway's message limit
    FAILED = "failed"  # 403, 429/5xx after retries, network errors


@dataclass(frozen=True, slots=True)
class PostResult:
    """One connection's outcome of a post."""

    connection_id: str
    status: PostStatus
    retries: int = 0
    error: str | None = None


@dataclass(slots=True)
class PostReport:
    """Outcomes of posting one frame to several connections."""

    results: list[PostResult] = field(default_factory=list)

    def with_status(self, status: PostStatus) -> list[str]:
        """Connection ids whose post ended with `status`."""
        return [r.connection_id for r in self.results if r.status is status]


class Outbound(Protocol):
    """Sends frames to connections."""

    def post(self, connection_ids: Iterable[str], data: str) -> PostReport:
        """Post `data` to every connection, in parallel; one failure never stops the others."""
        ...

    def close(self, connection_id: str) -> PostResult:
        """Close the connection as ``DELETE @connections/{id}`` does (the client sees a close
        and reconnects). DELIVERED: closed; GONE: it was already gone; FAILED: not closed."""
        ...


def unique(ids: Iterable[str]) -> Sequence[str]:
    """The ids in a stable order without repeats (sorted, for reproducible fan-out)."""
    return sorted(set(ids))
