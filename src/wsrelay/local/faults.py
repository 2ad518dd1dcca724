"""Reproducible fault injection for the local gateway (``--post-410``, ``--post-429``,
``--drop-disconnect``, ``--connection-lifetime-s``, ``--fault-seed``), limited in time by
``--fault-window-s``.

Each decision is a pure function of the seed, the fault's kind and counters the connection owns
(its ordinal among the gateway's connections, the number of posts made to it), never of a shared
random stream: a client that runs the same sequence of connections and messages sees exactly the
same faults on every run, whatever else the gateway is doing.

The per-post faults (410, 429) are drawn per post, so they scale with traffic: a connection that
receives twice the posts dies twice as often, which no real network does. Connection lifetimes do
not: each connection is closed after an exponentially distributed time of mean
``--connection-lifetime-s``, whatever it carries (a network drop, API Gateway's idle and 2 h
limits).

The window: every fault happens only from ``start`` to ``end`` seconds after the server started
(`start`). A lifetime is counted from the later of the connection's opening and the window's
start, and a close that would fall after the window's end does not happen. The exponential
distribution is memoryless, so that is exactly a Poisson process of drops, switched on and off
with the window.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

_SCALE = float(2**64)

# The kinds of fault, as /_wsrelay/stats counts them.
POST_410 = "post-410"
POST_429 = "post-429"
DISCONNECT = "disconnect"
LIFETIME = "lifetime"


def draw(seed: int, kind: str, ordinal: int, count: int) -> float:
    """A number in [0, 1) fixed by its arguments (uniform over them)."""
    key = f"{seed}:{kind}:{ordinal}:{count}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / _SCALE


class Faults:
    """Which posts fail, which closes lose their ``$disconnect``, when each connection is
    dropped; and, with a window, when any of it may happen.

    The pure decisions (`post_status`, `drops_disconnect`, `lifetime_s`) ignore the window; the
    gateway asks `on_post`, `on_close` and `close_at`, which apply it and count what they inject.
    """

    def __init__(
        self,
        post_410: float = 0.0,
        post_429: float = 0.0,
        drop_disconnect: float = 0.0,
        seed: int | None = None,
        *,
        lifetime_mean_s: float | None = None,
        window_s: tuple[float, float] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.post_410 = post_410
        self.post_429 = post_429
        self.drop_disconnect = drop_disconnect
        self.seed = secrets.randbits(32) if seed is None else seed
        self.lifetime_mean_s = lifetime_mean_s
        self.window_s = window_s
        self.clock = clock
        self.started_at = clock()
        self.injected: Counter[str] = Counter()
        self.first_s: float | None = None  # when the first and last injected faults happened,
        self.last_s: float | None = None  # in seconds after `started_at`

    def start(self) -> None:
        """The server starts serving now: the window counts from here."""
        self.started_at = self.clock()

    # -- pure decisions -----------------------------------------------------------------------

    def post_status(self, ordinal: int, post: int) -> int | None:
        """The status that injected faults give the `post`-th post (1-based) to the
        `ordinal`-th connection: 410, 429, or None for no fault."""
        if self.post_410 and draw(self.seed, POST_410, ordinal, post) < self.post_410:
            return 410
        if self.post_429 and draw(self.seed, POST_429, ordinal, post) < self.post_429:
            return 429
        return None

    def drops_disconnect(self, ordinal: int) -> bool:
        """Whether the `ordinal`-th connection's close never runs ``$disconnect``."""
        return bool(self.drop_disconnect) and draw(self.seed, DISCONNECT, ordinal, 0) < self.drop_disconnect

    def lifetime_s(self, ordinal: int) -> float | None:
        """The `ordinal`-th connection's lifetime: exponential of mean ``lifetime_mean_s``
        (inverse transform of its draw); None without lifetimes."""
        if self.lifetime_mean_s is None:
            return None
        return -self.lifetime_mean_s * math.log1p(-draw(self.seed, LIFETIME, ordinal, 0))

    # -- the gateway's questions: the window applied, injections counted -------------------------

    def window_epoch(self) -> tuple[float, float]:
        """The window as epoch seconds (the whole of time without one)."""
        if self.window_s is None:
            return -math.inf, math.inf
        start, end = self.window_s
        return self.started_at + start, self.started_at + end

    def active(self, now: float | None = None) -> bool:
        """Whether faults may happen at `now` (epoch seconds; default: the clock's now)."""
        start, end = self.window_epoch()
        return start <= (self.clock() if now is None else now) < end

    def on_post(self, ordinal: int, post: int) -> int | None:
        """`post_status` inside the window, None outside it; counted."""
        if not (self.post_410 or self.post_429) or not self.active():
            return None
        status = self.post_status(ordinal, post)
        if status is not None:
            self.record(POST_410 if status == 410 else POST_429)
        return status

    def on_close(self, ordinal: int) -> bool:
        """`drops_disconnect` inside the window, False outside it; counted."""
        dropped = self.drops_disconnect(ordinal) and self.active()
        if dropped:
            self.record(DISCONNECT)
        return dropped

    def close_at(self, ordinal: int, opened_at: float) -> float | None:
        """When (epoch seconds) to drop the `ordinal`-th connection, opened at `opened_at`: its
        lifetime counted from the later of its opening and the window's start; None when that
        falls after the window's end (or without lifetimes)."""
        lifetime = self.lifetime_s(ordinal)
        if lifetime is None:
            return None
        start, end = self.window_epoch()
        at = max(opened_at, start) + lifetime
        return at if at < end else None

    def record(self, kind: str) -> None:
        """Count one injected fault of `kind`, now."""
        self.injected[kind] += 1
        elapsed = self.clock() - self.started_at
        if self.first_s is None:
            self.first_s = elapsed
        self.last_s = elapsed

    def describe(self) -> dict[str, Any]:
        """The faults part of ``/_wsrelay/stats``."""
        return {
            "started_at": self.started_at,
            "fault_window_s": list(self.window_s) if self.window_s is not None else None,
            "fault_seed": self.seed,
            "faults_injected": {
                "by_kind": dict(sorted(self.injected.items())),
                "first_s": None if self.first_s is None else round(self.first_s, 3),
                "last_s": None if self.last_s is None else round(self.last_s, 3),
            },
        }
