"""The smoke test's steps, in order, against one endpoint.

Each step is a coroutine that returns a detail line or raises `StepFailed`; `run_steps` times it,
bounds it by the per-step timeout and records a `StepResult`. When the first step (connect)
fails, the others are reported as skipped at once. An endpoint that does not answer the first
connection at all (refused, no such host, silent for `FIRST_OPEN_S`) is not a failed step but
`EndpointUnreachable`: the test could not run.

The connect step also finds who acks publishers (``publisher_ack``): a result published before
any subscriber and acked anyway means ``stored``; the steps that depend on it check that mode's
rules, and "a late ack reaches every publisher" runs in ``router`` mode only.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass

from wsrelay.client.link import describe
from wsrelay.protocol import STORED_ACKNOWLEDGER
from wsrelay.tools.smoke.probe import EndpointUnreachable, NoFrame, Probe, StepFailed, Unreachable

STORED, ROUTER = "stored", "router"
SKIPPED = "skipped: "  # an ok step's detail that starts so was not run (its line says SKIP)
OVERSIZED_BYTES = 200 * 1024  # over API Gateway's 32 KB frame and 128 KB message limits
CLOSE_MESSAGE_TOO_BIG = 1009
# The first connection's bound, whatever --timeout-s: an unreachable endpoint is reported within
# 10 s of the start (a relay that answers takes well under a second to upgrade).
FIRST_OPEN_S = 6.0


@dataclass(frozen=True, slots=True)
class StepResult:
    """One line of the report."""

    name: str
    ok: bool
    ms: float
    detail: str

    def as_dict(self) -> dict[str, object]:
        """The JSON form: ``{"name", "ok", "ms", "detail"}``."""
        return asdict(self)


def _is_ack(guid: str) -> Callable[[str], bool]:
    def matches(text: str) -> bool:
        if not text.startswith("{"):
            return False
        try:
            message = json.loads(text)
        except ValueError:
            return False
        return isinstance(message, dict) and message.get("type") == "ack" and message.get("guid") == guid

    return matches


def _equals(expected: str) -> Callable[[str], bool]:
    return lambda text: text == expected


def _mentions(guid: str) -> Callable[[str], bool]:
    return lambda text: f'"{guid}"' in text and not _is_ack(guid)(text)


def _starts(prefix: str) -> Callable[[str], bool]:
    return lambda text: text.startswith(prefix)


def _result(guid: str, note: str) -> str:
    # Non-ASCII text and odd spacing: a relay that re-serializes would change these bytes.
    return (
        f'{{"guid":"{guid}", "code":0,"stdout":[{{"text":"{note} \u00e9\u00e8 \u2713"}}],"okToCache":true}}'
    )


class Smoke:
    """The state the steps share: the endpoint, the connections, the guids."""

    def __init__(self, url: str, headers: Mapping[str, str], timeout: float) -> None:
        self.url = url
        self.headers = headers
        self.timeout = timeout
        self.quiet_window = min(0.3, timeout)
        self.run_id = f"smoke-{secrets.token_hex(4)}"
        self.probes: list[Probe] = []
        self.deadline = time.monotonic() + timeout
        self.router: Probe | None = None
        self.worker: Probe | None = None
        self.mode: str | None = None  # publisher_ack, found by the connect step

    def left(self) -> float:
        """Seconds left of the current step's timeout."""
        return max(0.001, self.deadline - time.monotonic())

    def guid(self, name: str) -> str:
        """A guid unique to this run."""
        return f"{self.run_id}-{name}"

    async def open(self, limit_s: float | None = None) -> Probe:
        """A new connection (within `limit_s` when given), closed at the end of the run."""
        timeout = self.left() if limit_s is None else min(self.left(), limit_s)
        probe = await Probe.open(self.url, self.headers, timeout)
        self.probes.append(probe)
        return probe

    def pair(self) -> tuple[Probe, Probe]:
        """The router and worker connections (opened by the connect step)."""
        if self.router is None or self.worker is None:
            raise StepFailed("no connection (connect failed)")
        return self.router, self.worker

    async def pong(self, probe: Probe) -> None:
        """A ``ping`` round trip: everything sent before it on `probe` has been handled."""
        await probe.send("ping")
        await probe.expect(_equals("pong"), self.left(), "pong")

    # -- the steps --------------------------------------------------------------------------------

    async def connect(self) -> str:
        try:
            self.router = await self.open(FIRST_OPEN_S)
        except Unreachable as failure:
            raise EndpointUnreachable(str(failure).removeprefix("cannot connect: ")) from None
        self.worker = await self.open()
        return f"router and worker connections open; publisher ack: {await self.detect_mode()}"

    async def detect_mode(self) -> str:
        """Publish with nobody subscribed: an ack anyway means the relay acks on store. Then the
        router's ack drops the result (an extra ack frame for this guid is harmless)."""
        router, worker = self.pair()
        guid = self.guid("mode")
        await worker.send(_result(guid, "mode"))
        await self.pong(worker)
        try:
            await worker.expect(_is_ack(guid), self.quiet_window, "an ack before any subscriber")
            self.mode, how = STORED, "acked before any subscriber"
        except NoFrame:
            self.mode, how = ROUTER, f"no ack within {self.quiet_window:g} s without a subscriber"
        await router.send(f"ack: {guid}")
        return f"{self.mode} ({how})"

    def note_ack(self, frame: str) -> None:
        """An ack the relay sent itself means stored mode, however late it came."""
        if json.loads(frame).get("acknowledgedBy") == STORED_ACKNOWLEDGER:
            self.mode = STORED

    async def ping(self) -> str:
        router, _ = self.pair()
        await self.pong(router)
        return "pong"

    async def relay(self) -> str:
        router, worker = self.pair()
        guid = self.guid("relay")
        raw = _result(guid, "relay")
        await router.send(f"subscribe: {guid}")
        await self.pong(router)
        await worker.send(raw)
        await router.expect(_equals(raw), self.left(), "the identical result")
        return f"{len(raw.encode())} bytes identical"

    async def ack(self) -> str:
        router, worker = self.pair()
        guid = self.guid("relay")
        await router.send(f"ack: {guid}")
        frame = await worker.expect(_is_ack(guid), self.left(), f"ack for {guid}")
        by = json.loads(frame).get("acknowledgedBy")
        if not isinstance(by, str) or not by:
            raise StepFailed(f"ack without acknowledgedBy: {frame!r}")
        self.note_ack(frame)
        if self.mode == STORED:
            # The publisher had its ack on store: the router's ack must not reach it again.
            await self.pong(router)
            await worker.absent(_is_ack(guid), self.quiet_window, "a second ack (the router's, relayed)")
            return f"acknowledgedBy={by}, the router's ack not relayed again"
        return f"acknowledgedBy={by}"

    async def unsubscribe(self) -> str:
        router, worker = self.pair()
        guid = self.guid("unsub")
        raw = _result(guid, "unsubscribed")
        # A pong between the two: API Gateway may run one connection's messages concurrently.
        await router.send(f"subscribe: {guid}")
        await self.pong(router)
        await router.send(f"unsubscribe: {guid}")
        await self.pong(router)
        await worker.send(raw)
        await self.pong(worker)
        await router.absent(_mentions(guid), self.quiet_window, "a result after unsubscribe")
        # Leave nothing stored: take the result and ack it.
        await router.send(f"subscribe: {guid}")
        await router.expect(_equals(raw), self.left(), "the stored result on resubscribe")
        await router.send(f"ack: {guid}")
        await worker.expect(_is_ack(guid), self.left(), f"ack for {guid}")
        return f"nothing delivered within {self.quiet_window:g} s"

    async def late_subscriber(self) -> str:
        router, worker = self.pair()
        guid = self.guid("late")
        raw = _result(guid, "stored")
        await worker.send(raw)
        await self.pong(worker)
        await router.send(f"subscribe: {guid}")
        await router.expect(_equals(raw), self.left(), "the stored result on subscribe")
        await router.send(f"ack: {guid}")
        await worker.expect(_is_ack(guid), self.left(), f"ack for {guid}")
        return "stored result delivered, acked"

    async def resend_after_ack(self) -> str:
        router, _ = self.pair()
        guid = self.guid("relay")
        resender = await self.open()  # a worker that lost the ack and resends from a new connection
        await resender.send(_result(guid, "relay"))
        frame = await resender.expect(_is_ack(guid), self.left(), f"ack for the resent {guid}")
        await self.pong(router)
        await router.absent(_mentions(guid), self.quiet_window, "the resent result")
        return f"acked at once by {json.loads(frame).get('acknowledgedBy')}, not relayed again"

    async def late_ack_to_every_publisher(self) -> str:
        if self.mode == STORED:
            return SKIPPED + "publisher ack is stored: the relay acks each publisher itself"
        router, worker = self.pair()
        guid = self.guid("resent")
        raw = _result(guid, "resent")
        await worker.send(raw)
        await self.pong(worker)
        resender = await self.open()  # the worker reconnected and resends before any ack
        await resender.send(raw)
        await self.pong(resender)
        await router.send(f"subscribe: {guid}")
        await router.expect(_equals(raw), self.left(), "the stored result on subscribe")
        await router.send(f"ack: {guid}")
        await worker.expect(_is_ack(guid), self.left(), "the ack on the first publisher's connection")
        await resender.expect(_is_ack(guid), self.left(), "the ack on the resending connection")
        return "both publisher connections got the ack"

    async def malformed(self) -> str:
        router, _ = self.pair()
        checks = [
            ('{"guid": "x", broken', "error:"),
            ("subscribe: not a guid!", "error:"),
            ("hello relay", "unknown text message"),
        ]
        for frame, reply in checks:
            await router.send(frame)
            await router.expect(_starts(reply), self.left(), f"{reply!r} for {frame!r}")
        await self.pong(router)
        return "error: replies, connection still usable"

    async def oversized(self) -> str:
        probe = await self.open()
        pad = "x" * OVERSIZED_BYTES
        await probe.send(f'{{"guid":"{self.guid("big")}","pad":"{pad}"}}')
        try:
            frame = await probe.expect(_starts("error:"), self.left(), "error: or close 1009")
        except StepFailed as failure:
            closed = probe.ws.close_code
            if closed == CLOSE_MESSAGE_TOO_BIG:
                return f"closed with {closed}"
            raise StepFailed(f"{failure} (close code {closed})") from None
        return frame

    async def new_connection(self) -> str:
        probe = await self.open()
        await self.pong(probe)
        return "connect and ping -> pong"

    async def disconnect(self) -> str:
        probes, self.probes = self.probes, []
        for probe in probes:
            if probe.ws.close_code is None:
                await probe.close()
        return f"{len(probes)} connections closed"

    def abort_all(self) -> None:
        """Drop whatever is still open (after a failure or a timeout)."""
        for probe in self.probes:
            probe.abort()


def steps(smoke: Smoke) -> list[tuple[str, Callable[[], Awaitable[str]]]]:
    """The steps in the order they run."""
    return [
        ("connect", smoke.connect),
        ("ping -> pong", smoke.ping),
        ("subscribe, publish, receive the identical bytes", smoke.relay),
        ("ack reaches the publisher with acknowledgedBy", smoke.ack),
        ("unsubscribe stops delivery", smoke.unsubscribe),
        ("published before subscribe: delivered on subscribe", smoke.late_subscriber),
        ("resend after the ack is acked at once", smoke.resend_after_ack),
        ("a late ack reaches every publisher, also a resend's", smoke.late_ack_to_every_publisher),
        ("malformed input answered with error:", smoke.malformed),
        ("oversized message answered with error: or 1009", smoke.oversized),
        ("a new connection works after bad input", smoke.new_connection),
        ("disconnect", smoke.disconnect),
    ]


async def run_steps(
    url: str,
    headers: Mapping[str, str],
    timeout: float,
    report: Callable[[StepResult], None],
    smoke: Smoke | None = None,
) -> list[StepResult]:
    """Run every step, calling `report` after each; the results in order (`smoke.mode` then says
    the publisher ack mode found, None when connect failed). `EndpointUnreachable` when nothing
    answers the first connection."""
    smoke = smoke or Smoke(url, headers, timeout)
    results: list[StepResult] = []
    try:
        for name, step in steps(smoke):
            if results and not results[0].ok:
                result = StepResult(name, False, 0.0, "skipped: connect failed")
            else:
                smoke.deadline = time.monotonic() + timeout
                result = await _timed(name, step, timeout)
            results.append(result)
            report(result)
    finally:
        smoke.abort_all()
    return results


async def _timed(name: str, step: Callable[[], Awaitable[str]], timeout: float) -> StepResult:
    started = time.perf_counter()
    try:
        # Each exchange waits only for what is left of the step's timeout; this is the backstop.
        async with asyncio.timeout(timeout + 1.0):
            detail = await step()
        ok = True
    except StepFailed as failure:
        ok, detail = False, str(failure)
    except TimeoutError:
        ok, detail = False, f"timed out after {timeout:g} s"
    except OSError as error:
        ok, detail = False, describe(error)
    return StepResult(name, ok, (time.perf_counter() - started) * 1000.0, detail)
