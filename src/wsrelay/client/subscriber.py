"""`Subscriber`: the router's side of the relay, on one long-lived connection.

``subscribe(guid)`` before the job is enqueued, ``await wait(guid, timeout)`` for the result.
On arrival it sends ``ack: <guid>`` at once, then ``unsubscribe: <guid>`` (the router's order).
Where the router loses work, it does better:

- it reconnects forever while open (full-jitter backoff, capped), not 10 times 5 s, and
  resubscribes every guid still awaited, oldest first: the relay delivers a stored result on
  subscribe. It does so in batches, each closed by a ``ping`` whose ``pong`` releases the next,
  the first of 10 and each twice the last up to `SubscriberConfig.resubscribe_batch`, so a
  connection that dies during the resubscription leaves at most one (small) batch of subscribes
  for the relay to process in vain (sent all at once,
  every reconnect cost the relay one invocation per awaited guid, and the awaited guids pile up
  as soon as reconnects are frequent: docs/benchmarks.md, "The feedback loop: a resubscribe
  storm");
- acks sent just before a connection died are sent again after the reconnect, and a result that
  arrives again for a guid already completed is acked again (the relay redelivers only unacked
  results, so a redelivery means the first ack was lost);
- a light ``s3Key`` message is acked only once its object has been read, so a failed S3 read
  leaves the result with the relay instead of losing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from wsrelay import protocol
from wsrelay.client.errors import ClientClosed, ResultFetchError, ResultTimeout
from wsrelay.client.link import Link, LinkedClient
from wsrelay.client.options import SubscriberConfig
from wsrelay.client.s3 import ResultBucket, needs_completion

COMPLETED_REMEMBERED = 65536
# How long a resubscription batch waits for its pong before it sends the next batch anyway:
# a pong can be lost (the relay's post to this connection throttled), and stalling would leave
# awaited guids unsubscribed on the new connection.
PONG_WAIT_S = 5.0
# The first batch after a reconnect; each pong doubles the next, up to resubscribe_batch. A
# connection that dies at once (a flapping network) then wastes a few subscribes, not a batch.
FIRST_BATCH = 10


@dataclass(frozen=True, slots=True)
class Result:
    """A delivered result: `data` (merged with its S3 object for a light message), `raw` (the frame
    exactly as the relay sent it) and `received_at` (``time.monotonic()`` of the frame)."""

    guid: str
    data: dict[str, Any]
    raw: str
    received_at: float
    from_s3: bool = False


@dataclass(slots=True)
class SubscriberStats:
    """Counters: `duplicates` (results for guids no longer awaited), `errors` (``error:`` replies
    and unreadable frames), `s3_reads`, `acks_replayed`, `resubscribes` (subscribes sent again
    after reconnects)."""

    duplicates: int = 0
    errors: int = 0
    s3_reads: int = 0
    acks_replayed: int = 0
    resubscribes: int = 0
    last_error: str = ""


class Subscriber(LinkedClient):
    """The router's client. Use as ``async with Subscriber(config) as sub:`` (or start/close)."""

    def __init__(self, config: SubscriberConfig) -> None:
        self.config = config
        self.stats = SubscriberStats()
        self._link = Link(config, self._on_frame, self._on_reconnected, self._on_lost, give_up=False)
        self._waiters: dict[str, asyncio.Future[Result]] = {}
        self._fetching: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._completed: OrderedDict[str, None] = OrderedDict()
        self._acks_sent: deque[tuple[float, str]] = deque()
        self._replay: list[str] = []
        self._pongs: deque[asyncio.Future[None]] = deque()  # the resubscription's pings, in order
        self._resubscribing: asyncio.Task[None] | None = None
        self._bucket = ResultBucket(config.s3) if config.s3 is not None else None

    @property
    def awaited(self) -> int:
        """Guids subscribed and not yet delivered."""
        return sum(not future.done() for future in self._waiters.values())

    async def close(self) -> None:
        """Stop waiting (waiters get `ClientClosed`) and close the connection."""
        for future in self._waiters.values():
            if not future.done():
                future.set_exception(ClientClosed("the subscriber was closed"))
                future.exception()  # retrieved: nobody may be waiting on it any more
        self._waiters.clear()
        for task in list(self._tasks):  # results still being fetched from S3: nobody awaits them
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._link.close()  # its `_on_lost` cancels a resubscription still running
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def subscribe(self, guid: str) -> None:
        """Ask for `guid`'s result; call before the job is enqueued. Sent again after reconnects."""
        if not protocol.is_valid_guid(guid):
            raise ValueError(f"invalid guid {guid!r}")
        if guid not in self._waiters:
            self._waiters[guid] = asyncio.get_running_loop().create_future()
        await self._link.send(protocol.SUBSCRIBE_PREFIX + guid)

    async def wait(self, guid: str, timeout: float) -> Result:
        """The result for `guid` (subscribed before; it may have arrived already), once:
        `ResultTimeout` after `timeout` seconds."""
        future = self._waiters.get(guid)
        if future is None:
            raise ValueError(f"{guid} is not subscribed")
        try:
            async with asyncio.timeout(timeout):
                return await asyncio.shield(future)
        except TimeoutError:
            await self.unsubscribe(guid)
            raise ResultTimeout(guid, timeout) from None
        finally:
            if future.done():
                self._waiters.pop(guid, None)

    async def unsubscribe(self, guid: str) -> None:
        """Stop waiting for `guid`."""
        future = self._waiters.pop(guid, None)
        if future is not None and not future.done():
            future.cancel()
        await self._link.send(protocol.UNSUBSCRIBE_PREFIX + guid)

    # -- frames ---------------------------------------------------------------------------------

    async def _on_frame(self, text: str) -> None:
        received_at = time.monotonic()
        if not text.startswith("{"):
            if text == protocol.PONG:
                self._on_pong()
            elif text.startswith("error:"):
                self.stats.errors += 1
                self.stats.last_error = text
            return  # unknown text/object message: nothing to do (as the router)
        try:
            message = json.loads(text)
        except ValueError:
            self.stats.errors += 1
            self.stats.last_error = "a frame starting with a brace that is not JSON"
            return
        if not isinstance(message, dict) or message.get("type") == "ack":
            return
        guid = message.get("guid")
        if not isinstance(guid, str):
            return
        if guid in self._fetching:
            self.stats.duplicates += 1  # acked once its S3 object has been read
            return
        future = self._waiters.get(guid)
        if future is None or future.done():
            await self._on_duplicate(guid)
            return
        if self._bucket is not None and needs_completion(message):
            self._fetching.add(guid)
            task = asyncio.create_task(self._complete_from_s3(guid, message, text, received_at))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return
        self._finish(guid, Result(guid, message, text, received_at))
        await self._acknowledge(guid)

    async def _complete_from_s3(
        self, guid: str, message: dict[str, Any], raw: str, received_at: float
    ) -> None:
        assert self._bucket is not None
        try:
            stored = await self._bucket.get(str(message["s3Key"]))
        except Exception as error:  # boto3's errors, unreadable JSON: the waiter learns why
            self._fetching.discard(guid)
            future = self._waiters.get(guid)
            if future is not None and not future.done():
                future.set_exception(ResultFetchError(f"cannot read s3Key {message['s3Key']!r}: {error}"))
            return
        self._fetching.discard(guid)
        self.stats.s3_reads += 1
        future = self._waiters.get(guid)
        if future is not None and not future.done():
            self._finish(guid, Result(guid, {**stored, **message}, raw, received_at, from_s3=True))
            await self._acknowledge(guid)

    def _finish(self, guid: str, result: Result) -> None:
        future = self._waiters[guid]
        if not future.done():
            future.set_result(result)
        self._completed[guid] = None
        if len(self._completed) > COMPLETED_REMEMBERED:
            self._completed.popitem(last=False)

    async def _acknowledge(self, guid: str) -> None:
        now = time.monotonic()
        acks = self._acks_sent
        acks.append((now, guid))
        while acks and now - acks[0][0] > self.config.ack_replay_s:
            acks.popleft()
        await self._link.send_all([protocol.ACK_PREFIX + guid, protocol.UNSUBSCRIBE_PREFIX + guid])

    async def _on_duplicate(self, guid: str) -> None:
        self.stats.duplicates += 1
        if guid in self._completed:
            await self._link.send_all([protocol.ACK_PREFIX + guid, protocol.UNSUBSCRIBE_PREFIX + guid])

    # -- reconnects -----------------------------------------------------------------------------

    def _on_lost(self) -> None:
        cutoff = time.monotonic() - self.config.ack_replay_s
        self._replay = [guid for sent, guid in self._acks_sent if sent >= cutoff]
        self._acks_sent.clear()
        task, self._resubscribing = self._resubscribing, None
        if task is not None:  # its batches were for the connection just lost
            task.cancel()
        while self._pongs:
            self._pongs.popleft().cancel()

    async def _on_reconnected(self) -> None:
        replay, self._replay = self._replay, []
        self.stats.acks_replayed += len(replay)
        frames = [
            frame
            for guid in replay
            for frame in (protocol.ACK_PREFIX + guid, protocol.UNSUBSCRIBE_PREFIX + guid)
        ]
        if frames:
            await self._link.send_all(frames)
        # Guids subscribed from now on go out on the new connection by themselves.
        awaited = [guid for guid, future in self._waiters.items() if not future.done()]
        if awaited:
            # A task: the link reads no frame (so no pong) until this callback returns.
            task = asyncio.create_task(self._resubscribe(awaited))
            self._tasks.add(task)  # awaited by `close`
            task.add_done_callback(self._tasks.discard)
            self._resubscribing = task

    async def _resubscribe(self, guids: list[str]) -> None:
        """Subscribe `guids` again on the new connection, oldest first, one batch per pong (10,
        then twice the last, up to ``resubscribe_batch``: slow start, as TCP's)."""
        start, size = 0, min(FIRST_BATCH, self.config.resubscribe_batch)
        while start < len(guids):
            chunk, start = guids[start : start + size], start + size
            awaited = self._waiters
            batch = [
                guid for guid in chunk if (future := awaited.get(guid)) is not None and not future.done()
            ]
            if not batch:
                continue
            pong: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._pongs.append(pong)
            frames = [protocol.SUBSCRIBE_PREFIX + guid for guid in batch]
            if not await self._link.send_all([*frames, protocol.PING]):
                return  # lost: the next reconnect starts over
            self.stats.resubscribes += len(batch)
            if start < len(guids):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(pong), PONG_WAIT_S)
                size = min(2 * size, self.config.resubscribe_batch)

    def _on_pong(self) -> None:
        while self._pongs:
            pong = self._pongs.popleft()
            if not pong.done():
                pong.set_result(None)
                return
