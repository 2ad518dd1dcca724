"""Retry and reconnect delays: exponential backoff with full jitter, capped. The one backoff of
wsrelay: the Management API outbound's post retries and the clients' reconnects both use it.

Full jitter (a uniform draw between 0 and the exponential bound) spreads the reconnects of many
clients dropped at once (an API Gateway deployment, a network blip) instead of letting them hit
the endpoint in synchronized waves, which fixed delays (the router's 5 s) and plain doubling do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before attempt `n` (0-based): ``uniform(0, min(cap_s, base_s * 2**n))``.

    `max_attempts` bounds consecutive failed attempts (None: never give up).
    """

    base_s: float = 0.25
    cap_s: float = 10.0
    max_attempts: int | None = None

    def __post_init__(self) -> None:
        if self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError("Backoff needs 0 < base_s <= cap_s")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("Backoff.max_attempts must be at least 1 (or None)")

    def bound(self, attempt: int) -> float:
        """The upper bound of the delay before attempt `attempt` (0-based)."""
        # min() before the power would overflow for long outages; cap the exponent instead.
        return min(self.cap_s, self.base_s * 2 ** min(attempt, 62))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """A full-jitter delay before attempt `attempt` (0-based)."""
        return (rng or random).uniform(0.0, self.bound(attempt))

    def gives_up_after(self, failures: int) -> bool:
        """True when `failures` consecutive failed attempts exhaust `max_attempts`."""
        return self.max_attempts is not None and failures >= self.max_attempts
