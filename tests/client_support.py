"""What the client tests share: a quick backoff, and running a scenario with a bound."""

from __future__ import annotations

import asyncio

from wsrelay.client import Backoff

FAST = Backoff(base_s=0.01, cap_s=0.05)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))
