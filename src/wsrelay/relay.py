"""What $connect, $disconnect and every client command do: the relay's logic.

Pure: it talks to a `Store` and an `Outbound` (see `wsrelay.ports`) and returns an `Outcome`
that says what happened and which metrics to count. It imports no AWS SDK, no asyncio and no
gateway code, so it runs unchanged in a Lambda handler, in the local gateway and in unit tests.

Delivery rules (docs/protocol.md):
- a result stays stored until a subscriber acks it (or the TTL passes); a subscriber that
  arrives later, or re-subscribes after a reconnect, gets it at once;
- an ack goes to every publisher of the guid that the relay has not acked itself; a publish
  after the ack is acked at once and not relayed again;
- a 410 on a post removes that subscriber from that guid; an unsubscribe removes it too, and
  the store's TTL removes a whole guid's channel (DynamoDB's TTL, the SQLite stores' sweep).

Who acks the publisher (`publisher_ack`):
- ``router``: the subscriber's ``ack: <guid>``, relayed (the legacy relay's contract);
- ``stored``: the relay itself, in the publish's invocation, once the result is stored and the
  posts to the subscribers have ended, unless a post ended FAILED or, in the cutover mode, the
  guid's item had no subscriber (the legacy index may be stale): then the worker's resend
  retries. A stored result that fails to reach a subscribing connection closes it, so the
  router reconnects, re-subscribes and gets it again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from wsrelay import protocol, roles
from wsrelay.ports import Outbound, PostReport, PostStatus, Published, Store, unique

# Who acks a publisher (Settings.publisher_ack, WSRELAY_PUBLISHER_ACK).
STORED = "stored"
ROUTER = "router"
PUBLISHER_ACK_MODES = (STORED, ROUTER)

# Metric names (CloudWatch EMF, dimension set [service]); docs/operations.md explains each.
RESULTS_PUBLISHED = "ResultsPublished"
RESULTS_DELIVERED = "ResultsDelivered"
RESULTS_WITHOUT_SUBSCRIBER = "ResultsWithoutSubscriber"
LATE_DELIVERIES = "LateDeliveries"
STALE_CONNECTIONS_REMOVED = "StaleConnectionsRemoved"
ACKS_ROUTED = "AcksRouted"
ACKS_UNROUTABLE = "AcksUnroutable"
DUPLICATE_PUBLISHES = "DuplicatePublishes"
POST_RETRIES = "PostRetries"
POST_FAILURES = "PostFailures"
HANDLER_ERRORS = "HandlerErrors"
DELIVERY_LATENCY = "DeliveryLatency"
ACKS_ON_STORE = "AcksOnStore"
ACKS_WITHHELD = "AcksWithheld"
ROLE_VIOLATIONS = "RoleViolations"


@dataclass(slots=True)
class Outcome:
    """What one invocation did: a short outcome word, the guid, metrics and log notes."""

    outcome: str = "ok"
    guid: str | None = None
    counts: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Relay:
    """The relay over one store and one outbound; stateless between calls.

    `cleanup_deadline` (a `clock` time) bounds optional work: after it, subscribers found gone
    are left for the TTL instead of being removed, so a slow store cannot push an invocation
    past API Gateway's 29 s.

    `publisher_ack` defaults to ``router``, the protocol's original contract, so that building a
    bare `Relay` changes nothing; the hosts pass `Settings.publisher_ack` (default ``stored``).

    `role` is the connection's role from the authorizer's context (None: no authorizer, every
    command allowed). A command the role does not allow is refused with an ``error:`` reply and
    changes nothing; with `enforce_roles` False (the authorizer's permissive mode) it is logged
    and counted (`ROLE_VIOLATIONS`) and runs anyway.
    """

    def __init__(
        self,
        store: Store,
        outbound: Outbound,
        clock: Callable[[], float],
        cleanup_deadline: float | None = None,
        publisher_ack: str = ROUTER,
        role: str | None = None,
        enforce_roles: bool = True,
    ) -> None:
        if publisher_ack not in PUBLISHER_ACK_MODES:
            raise ValueError(
                f"publisher_ack must be one of {', '.join(PUBLISHER_ACK_MODES)}, got {publisher_ack!r}"
            )
        self.store = store
        self.outbound = outbound
        self.clock = clock
        self.cleanup_deadline = cleanup_deadline
        self.publisher_ack = publisher_ack
        self.role = role
        self.enforce_roles = enforce_roles

    def connect(self, connection_id: str) -> Outcome:
        """$connect: nothing reads a connection record, so nothing is written."""
        return Outcome("connected")

    def disconnect(self, connection_id: str) -> Outcome:
        """$disconnect: best effort in AWS, so correctness never depends on it.

        Subscriptions of a closed connection are removed lazily, by the 410 of the first post
        that reaches them, or expire with their guid's TTL.
        """
        return Outcome("disconnected")

    def receive(self, connection_id: str, text: str) -> Outcome:
        """A client frame on $default (or any message route)."""
        command = protocol.parse_frame(text)
        refused = roles.violation(self.role, command)
        if refused is None:
            return self._run(connection_id, command)
        guid = getattr(command, "guid", None)
        if self.enforce_roles:
            outcome = Outcome("forbidden", guid, notes=[refused])
            outcome.counts[ROLE_VIOLATIONS] += 1
            return self._reply(connection_id, protocol.error_frame(refused), outcome)
        outcome = self._run(connection_id, command)
        outcome.counts[ROLE_VIOLATIONS] += 1
        outcome.notes.append(f"{refused}: let through (permissive mode)")
        return outcome

    def _run(self, connection_id: str, command: protocol.Command) -> Outcome:
        """Run one parsed command (its role already checked)."""
        match command:
            case protocol.Subscribe(guid):
                return self._subscribe(connection_id, guid)
            case protocol.Unsubscribe(guid):
                self.store.unsubscribe(guid, connection_id, self.clock())
                return Outcome("unsubscribed", guid)
            case protocol.Acknowledge(guid):
                return self._ack(connection_id, guid)
            case protocol.Publish(guid, raw):
                return self._publish(connection_id, guid, raw)
            case protocol.Ping():
                return self._reply(connection_id, protocol.PONG, Outcome("pong"))
            case protocol.UnknownText():
                return self._reply(connection_id, protocol.UNKNOWN_TEXT, Outcome("unknown_text"))
            case protocol.UnknownObject():
                reply = protocol.UNKNOWN_OBJECT
                return self._reply(connection_id, reply, Outcome("unknown_object"))
            case protocol.Malformed(reason):
                outcome = Outcome("rejected", notes=[reason])
                return self._reply(connection_id, protocol.error_frame(reason), outcome)
        raise AssertionError(f"unhandled command {command!r}")  # pragma: no cover

    def receive_binary(self, connection_id: str) -> Outcome:
        """A frame that is not valid UTF-8 text: refuse it, change nothing."""
        reason = "frame is not UTF-8 text"
        outcome = Outcome("rejected", notes=[reason])
        return self._reply(connection_id, protocol.error_frame(reason), outcome)

    # -- commands ---------------------------------------------------------------------------

    def _subscribe(self, connection_id: str, guid: str) -> Outcome:
        channel = self.store.subscribe(guid, connection_id, self.clock())
        outcome = Outcome("subscribed", guid)
        if channel.result is not None and channel.acked_by is None:
            report = self.outbound.post([connection_id], channel.result)
            delivered = self._account_delivery(guid, report, outcome)
            if delivered:
                outcome.counts[LATE_DELIVERIES] += delivered
                outcome.outcome = "subscribed_late_delivery"
            elif self.publisher_ack == STORED and report.with_status(PostStatus.FAILED):
                # The publisher was acked already, so no resend will post this again: close the
                # connection, and the router reconnects, re-subscribes and gets it then.
                self._close(connection_id, outcome)
        return outcome

    def _close(self, connection_id: str, outcome: Outcome) -> None:
        closed = self.outbound.close(connection_id)
        outcome.outcome = "subscribed_delivery_failed"
        if closed.status is PostStatus.DELIVERED:
            outcome.notes.append(f"closed {connection_id}: its reconnect re-subscribes and gets the result")
        else:
            outcome.notes.append(f"could not close {connection_id} ({closed.status.value}: {closed.error})")

    def _publish(self, connection_id: str, guid: str, raw: str) -> Outcome:
        stored = self.publisher_ack == STORED
        published = self.store.publish(guid, connection_id, raw, self.clock(), ack_on_store=stored)
        outcome = Outcome("published", guid)
        outcome.counts[RESULTS_PUBLISHED] += 1
        if published.resend or published.already_acked_by is not None:
            outcome.counts[DUPLICATE_PUBLISHES] += 1
        if published.already_acked_by is not None:
            # A resend after a lost ack: ack this publisher now, relay nothing.
            outcome.outcome = "already_acked"
            frame = protocol.ack_frame(guid, published.already_acked_by)
            self._account_posts(self.outbound.post([connection_id], frame), outcome)
            return outcome
        report = PostReport()
        if not published.subscribers:
            outcome.outcome = "stored_without_subscriber"
            outcome.counts[RESULTS_WITHOUT_SUBSCRIBER] += 1
        else:
            report = self.outbound.post(unique(published.subscribers), raw)
            self._account_delivery(guid, report, outcome)
        if stored:
            self._ack_on_store(connection_id, guid, published, report, outcome)
        return outcome

    def _ack_on_store(
        self, connection_id: str, guid: str, published: Published, report: PostReport, outcome: Outcome
    ) -> None:
        """``publisher_ack=stored``: the result is stored and the posts have ended; ack the
        publisher, or withhold the ack (and let the worker's resend retry) when a subscriber's
        post FAILED or the subscribers came from the cutover's stale-prone legacy index."""
        failed = report.with_status(PostStatus.FAILED)
        if failed:
            reason = f"ack withheld: the post to {', '.join(failed)} failed; the worker's resend retries"
        elif published.legacy_lookup:
            reason = (
                "ack withheld: no subscriber on the guid's item (legacy index read); a resend reads again"
            )
        else:
            ack = self.outbound.post([connection_id], protocol.ack_frame(guid, protocol.STORED_ACKNOWLEDGER))
            self._account_posts(ack, outcome)
            if ack.with_status(PostStatus.DELIVERED):
                outcome.counts[ACKS_ON_STORE] += 1
            else:
                outcome.notes.append("the publisher did not take the ack on store; its resend is acked")
            return
        # The publish recorded this publisher as acked; undo that so a subscriber's ack reaches it.
        acked_by = self.store.withhold_ack(guid, connection_id, self.clock())
        if acked_by is None:
            outcome.counts[ACKS_WITHHELD] += 1
            outcome.notes.append(reason)
            return
        # A subscriber acked while the posts ran, and skipped this publisher: ack it now.
        ack = self.outbound.post([connection_id], protocol.ack_frame(guid, acked_by))
        self._account_posts(ack, outcome)
        if ack.with_status(PostStatus.DELIVERED):
            outcome.counts[ACKS_ROUTED] += 1

    def _ack(self, connection_id: str, guid: str) -> Outcome:
        now = self.clock()
        channel = self.store.ack(guid, connection_id, now)
        if channel is None or not channel.publishers:
            outcome = Outcome("ack_unroutable", guid)
            outcome.counts[ACKS_UNROUTABLE] += 1
            outcome.notes.append("ack for a guid with no stored publisher (expired or never published)")
            return outcome
        outcome = Outcome("acked", guid)
        # Publishers the relay acked on store have had their ack: never a second one per publish.
        waiting = unique(channel.publishers - channel.store_acked)
        report = PostReport()
        if waiting:
            report = self.outbound.post(waiting, protocol.ack_frame(guid, connection_id))
            self._account_posts(report, outcome)
        if not waiting:
            outcome.outcome = "ack_settled"  # every publisher had its ack on store: routed
            outcome.counts[ACKS_ROUTED] += 1
        elif report.with_status(PostStatus.DELIVERED):
            outcome.counts[ACKS_ROUTED] += 1
        else:
            outcome.outcome = "ack_publishers_unreachable"
            outcome.notes.append("no publisher connection took the ack; a resend will be acked")
        if channel.published_at is not None:
            outcome.latencies_ms.append(max(0.0, (now - channel.published_at) * 1000.0))
        return outcome

    def _reply(self, connection_id: str, text: str, outcome: Outcome) -> Outcome:
        self._account_posts(self.outbound.post([connection_id], text), outcome)
        return outcome

    # -- accounting ---------------------------------------------------------------------------

    def _account_delivery(self, guid: str, report: PostReport, outcome: Outcome) -> int:
        """Count a result's fan-out and remove subscribers that are gone; return deliveries."""
        self._account_posts(report, outcome)
        delivered = len(report.with_status(PostStatus.DELIVERED))
        outcome.counts[RESULTS_DELIVERED] += delivered
        for gone in report.with_status(PostStatus.GONE):
            now = self.clock()
            if self.cleanup_deadline is not None and now > self.cleanup_deadline:
                outcome.notes.append(f"{gone} is gone; left for the TTL (invocation running late)")
                continue
            self.store.unsubscribe(guid, gone, now)
            outcome.counts[STALE_CONNECTIONS_REMOVED] += 1
        return delivered

    @staticmethod
    def _account_posts(report: PostReport, outcome: Outcome) -> None:
        for result in report.results:
            if result.retries:
                outcome.counts[POST_RETRIES] += result.retries
            if result.status is PostStatus.FAILED or result.status is PostStatus.TOO_LARGE:
                outcome.counts[POST_FAILURES] += 1
                outcome.notes.append(f"post to {result.connection_id} {result.status.value}: {result.error}")
