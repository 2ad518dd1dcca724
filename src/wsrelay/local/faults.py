"""Reproducible fault injection for the local gateway (``--post-410``, ``--post-429``,
``--drop-disconnect``, ``--fault-seed``).

Each decision is a pure function of the seed, the fault's kind and counters the connection owns
(its ordinal among the gateway's connections, the number of posts made to it), never of a shared
random stream: a client that runs the same sequence of connections and messages sees exactly the
same faults on every run, whatever else the gateway is doing.
"""

from __future__ import annotations

import hashlib
import secrets

_SCALE = float(2**64)


def draw(seed: int, kind: str, ordinal: int, count: int) -> float:
    """A number in [0, 1) fixed by its arguments (uniform over them)."""
    key = f"{seed}:{kind}:{ordinal}:{count}".encode()
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big") / _SCALE


class Faults:
    """Which posts fail and which closes lose their ``$disconnect``."""

    def __init__(
        self,
        post_410: float = 0.0,
        post_429: float = 0.0,
        drop_disconnect: float = 0.0,
        seed: int | None = None,
    ) -> None:
        self.post_410 = post_410
        self.post_429 = post_429
        self.drop_disconnect = drop_disconnect
        self.seed = secrets.randbits(32) if seed is None else seed

    def post_status(self, ordinal: int, post: int) -> int | None:
        """The status that injected faults give the `post`-th post (1-based) to the
        `ordinal`-th connection: 410, 429, or None for no fault."""
        if self.post_410 and draw(self.seed, "post-410", ordinal, post) < self.post_410:
            return 410
        if self.post_429 and draw(self.seed, "post-429", ordinal, post) < self.post_429:
            return 429
        return None

    def drops_disconnect(self, ordinal: int) -> bool:
        """Whether the `ordinal`-th connection's close never runs ``$disconnect``."""
        return bool(self.drop_disconnect) and draw(self.seed, "disconnect", ordinal, 0) < self.drop_disconnect
