"""Where the relay's invocations run: on-demand Lambda, provisioned concurrency, or Lambda Managed
Instances (`managed.py`), for each of the relay's functions that changes an outcome: sendmessage
(subscribe, unsubscribe, publish, ack) and onconnect (every reconnect goes through `$connect`).
ondisconnect changes nothing (the relay's `$disconnect` writes nothing) and is only billed.

Each function answers one question, `admit(op, now)`: when does this invocation end, or is it
refused (None: throttled, or failed in an outage)? Occupancy is kept in heaps of end times and
settled lazily at each admission, so invocations cost no SimPy events.

On demand, every function of the account draws on one pool: the account's concurrency
(`Account`), which counts invocations running, not warm environments. Provisioned concurrency is
taken out of it (assumed); its overflow runs on demand from the same pool. During the throttle
scenario's squeeze the account's other functions leave the relay only `--ondemand-share` of it.
A function with reserved concurrency (`--reserved-concurrency`) draws on its own reservation
instead, which no other function can use and which is also its ceiling (AWS Lambda's
"configuring reserved concurrency" page).
"""

from __future__ import annotations

import heapq
import math
import random
from collections import deque
from dataclasses import dataclass, fields

import simpy

from wsrelay.tools.simulate.parameters import SimConfig
from wsrelay.tools.simulate.streams import LogNormal, stream
from wsrelay.tools.simulate.timers import at

FULL_VCPU_MB = 1769  # Lambda: one vCPU's worth of CPU at 1,769 MB, a share in proportion below
SENDMESSAGE, ONCONNECT = "sendmessage", "onconnect"


@dataclass
class Usage:
    """What a function did and what it bills (for the relay's cost)."""

    invocations: int = 0
    throttles: int = 0
    failures: int = 0
    cold_starts: int = 0
    ondemand_gb_s: float = 0.0
    provisioned_used_gb_s: float = 0.0
    environment_seconds: float = 0.0  # LMI: environments x time
    max_environments: int = 0

    def __add__(self, other: Usage) -> Usage:
        total = Usage()
        for f in fields(Usage):
            a, b = getattr(self, f.name), getattr(other, f.name)
            setattr(total, f.name, max(a, b) if f.name == "max_environments" else a + b)
        return total


class Function:
    """Common part: the outage window, counting, and the CPU time of each operation."""

    mode = ""

    def __init__(self, env: simpy.Environment, config: SimConfig, cpu_s: dict[str, float], name: str) -> None:
        self.env = env
        self.config = config
        self.name = name
        self.cpu_s = {op: s * config.cpu_factor for op, s in cpu_s.items()}
        self.io_s = config.io_wait_ms / 1000.0
        self.fail_from = math.inf
        self.fail_until = -math.inf
        self.usage = Usage()

    def fail_between(self, start: float, end: float) -> None:
        """Every invocation in [start, end) fails (the outage and reconnect scenarios)."""
        self.fail_from, self.fail_until = start, end

    def admit(self, op: str, now: float) -> float | None:
        """End time of an invocation of `op` starting `now`, or None if it fails or is throttled."""
        self.usage.invocations += 1
        if self.fail_from <= now < self.fail_until:
            self.usage.failures += 1
            return None
        end = self._admit(op, now)
        if end is None:
            self.usage.throttles += 1
        return end

    def _admit(self, op: str, now: float) -> float | None:
        raise NotImplementedError

    def lose_capacity(self, fraction: float, restore_after: float) -> None:
        """An AZ goes away: `fraction` of the capacity is lost, back after `restore_after`."""
        raise NotImplementedError

    def start(self) -> None:
        """Start any process the mode needs (LMI's scaler)."""

    def finish(self, now: float) -> None:
        """Close the time integrals at the end of the run."""


class Account:
    """The account's concurrency as the relay's on-demand invocations see it."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.functions: list[LambdaFunction] = []
        self.squeeze_from = math.inf
        self.squeeze_until = -math.inf

    def squeeze(self, start: float, end: float) -> None:
        """Between `start` and `end` the account's other functions hold all but the relay's share."""
        self.squeeze_from, self.squeeze_until = start, end

    def available(self, now: float) -> int:
        """On-demand invocations the relay may run at once at `now`."""
        c = self.config
        if self.squeeze_from <= now < self.squeeze_until:
            return math.floor(c.account_concurrency * c.ondemand_share)
        carved = sum(f.reserved or f.provisioned for f in self.functions)  # not the pool's any more
        return max(0, c.account_concurrency - carved)

    def in_use(self, now: float) -> int:
        """On-demand invocations of the relay's functions running at `now`."""
        pooled = [f for f in self.functions if not f.reserved]
        for f in pooled:
            f.settle(now)
        return sum(len(f.od_busy) for f in pooled)

    def reclaim(self) -> None:
        """Lambda reclaims every idle on-demand environment (the cold scenario): the next
        invocations start cold."""
        for f in self.functions:
            f.settle(f.env.now)  # invocations ended by now leave environments idle: reclaimed too
            f.od_idle.clear()


class LambdaFunction(Function):
    """Standard Lambda: `provisioned` warm environments that never go cold, then on-demand ones
    (a cold start when none is idle) while the account has concurrency; throttled beyond."""

    def __init__(
        self,
        env: simpy.Environment,
        config: SimConfig,
        cpu_s: dict[str, float],
        name: str,
        account: Account,
        provisioned: int,
        memory_mb: int,
        rng: random.Random,
    ) -> None:
        super().__init__(env, config, cpu_s, name)
        self.mode = "provisioned" if provisioned else "ondemand"
        self.account = account
        account.functions.append(self)
        self.provisioned = provisioned
        self.reserved = max(config.reserved_concurrency, provisioned) if config.reserved_concurrency else 0
        self.share = min(1.0, memory_mb / FULL_VCPU_MB)
        self.gb = memory_mb / 1024
        self.cold = LogNormal(config.cold_start_median_s, config.cold_start_p99_s)
        self.rng = rng
        self.pc_busy: list[float] = []  # end times of invocations on provisioned environments
        self.od_busy: list[float] = []  # end times of invocations on on-demand environments
        self.od_idle: deque[float] = deque()  # idle-since of warm on-demand environments, oldest first

    def prewarm(self, count: int) -> None:
        """Start the run with `count` warm on-demand environments (a run starts in its steady
        state, not from a cold function)."""
        self.od_idle.extend([0.0] * count)

    def settle(self, now: float) -> None:
        """Retire the invocations ended by `now` and the environments idle for too long."""
        while self.pc_busy and self.pc_busy[0] <= now:
            heapq.heappop(self.pc_busy)
        while self.od_busy and self.od_busy[0] <= now:
            self.od_idle.append(heapq.heappop(self.od_busy))
        while self.od_idle and self.od_idle[0] + self.config.keep_warm_s < now:
            self.od_idle.popleft()

    def _admit(self, op: str, now: float) -> float | None:
        self.settle(now)
        duration = self.io_s + self.cpu_s[op] / self.share
        if len(self.pc_busy) < self.provisioned:
            heapq.heappush(self.pc_busy, now + duration)
            self.usage.provisioned_used_gb_s += duration * self.gb
            return now + duration
        if self.reserved:
            if len(self.pc_busy) + len(self.od_busy) >= self.reserved:
                return None  # its own reservation is full (and is its ceiling)
        elif self.account.in_use(now) >= self.account.available(now):
            return None
        if self.od_idle:
            self.od_idle.pop()  # the most recently used: Lambda reuses warm environments
        else:
            self.usage.cold_starts += 1
            duration += self.cold.draw(self.rng)
        heapq.heappush(self.od_busy, now + duration)
        self.usage.ondemand_gb_s += duration * self.gb
        return now + duration

    def lose_capacity(self, fraction: float, restore_after: float) -> None:
        lost_pc = int(self.provisioned * fraction)
        self.provisioned -= lost_pc
        for _ in range(int(len(self.od_idle) * fraction)):
            self.od_idle.pop()
        if lost_pc:
            at(self.env, restore_after, lambda: self._restore(lost_pc))

    def _restore(self, count: int) -> None:
        self.provisioned += count


@dataclass
class Functions:
    """The relay's functions under one compute mode, and the account they share (on demand)."""

    mode: str
    sendmessage: Function
    onconnect: Function
    account: Account

    def all(self) -> tuple[Function, Function]:
        """Both functions."""
        return (self.sendmessage, self.onconnect)

    def fail_between(self, start: float, end: float) -> None:
        """Every invocation of every function fails in [start, end)."""
        for f in self.all():
            f.fail_between(start, end)

    def lose_capacity(self, fraction: float, restore_after: float) -> None:
        """An AZ goes away for every function."""
        for f in self.all():
            f.lose_capacity(fraction, restore_after)

    def start(self) -> None:
        """Start the functions' own processes."""
        for f in self.all():
            f.start()

    def finish(self, now: float) -> None:
        """Close the time integrals."""
        for f in self.all():
            f.finish(now)

    @property
    def usage(self) -> Usage:
        """Both functions' usage added (max_environments: the larger)."""
        return self.sendmessage.usage + self.onconnect.usage


def make(
    mode: str, env: simpy.Environment, config: SimConfig, cpu_s: dict[str, float], seed: int, warm: int = 0
) -> Functions:
    """The relay's functions under compute mode `mode`; on demand, `warm` environments of
    sendmessage start warm."""
    from wsrelay.tools.simulate.managed import ManagedFunction

    account = Account(config)
    if mode == "managed":
        return Functions(
            mode,
            ManagedFunction(env, config, cpu_s, SENDMESSAGE),
            ManagedFunction(env, config, cpu_s, ONCONNECT),
            account,
        )
    if mode not in ("ondemand", "provisioned"):
        raise ValueError(f"unknown compute mode {mode!r}")
    provisioned = mode == "provisioned"
    send = LambdaFunction(
        env,
        config,
        cpu_s,
        SENDMESSAGE,
        account,
        config.provisioned if provisioned else 0,
        config.function_memory_mb,
        stream(seed, f"cold-start:{SENDMESSAGE}"),
    )
    connect = LambdaFunction(
        env,
        config,
        cpu_s,
        ONCONNECT,
        account,
        config.connect_provisioned if provisioned else 0,
        config.connect_memory_mb,
        stream(seed, f"cold-start:{ONCONNECT}"),
    )
    send.prewarm(max(0, warm - send.provisioned))
    return Functions(mode, send, connect, account)
