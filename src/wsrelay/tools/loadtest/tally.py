"""What one load generator counts while it runs: jobs, latencies and per-second series."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from wsrelay.tools.loadtest.histograms import Latency

ERROR_SAMPLES = 5


@dataclass
class Second:
    """One wall-clock second: deliveries, acks and the delivery latencies' sum and max (ms)."""

    delivered: int = 0
    acked: int = 0
    latency_sum_ms: float = 0.0
    latency_max_ms: float = 0.0


@dataclass
class Tally:
    """Counts and latencies of one generator. Latencies are recorded from the intended publish
    time (the schedule's, in open loop), `lag` is how late the generator started each job."""

    sent: int = 0
    published: int = 0
    delivered: int = 0
    acked: int = 0
    acks_on_store: int = 0  # acks the relay sent itself (publisher_ack=stored), of `acked`
    publish_failures: int = 0
    corrupted: int = 0
    s3_offloaded: int = 0
    cpu_s: float = 0.0  # the generator process's CPU time from the first job to the end
    deliver: Latency = field(default_factory=Latency)
    ack: Latency = field(default_factory=Latency)
    lag: Latency = field(default_factory=Latency)
    seconds: dict[int, Second] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)

    def _second(self) -> Second:
        now = int(time.time())
        second = self.seconds.get(now)
        if second is None:
            second = self.seconds[now] = Second()
        return second

    def delivered_after(self, seconds: float) -> None:
        """A result arrived `seconds` after its intended publish time."""
        self.delivered += 1
        self.deliver.record(seconds)
        second = self._second()
        second.delivered += 1
        ms = seconds * 1000.0
        second.latency_sum_ms += ms
        second.latency_max_ms = max(second.latency_max_ms, ms)

    def acked_after(self, seconds: float, on_store: bool = False) -> None:
        """An ack reached the publisher `seconds` after the intended publish time (`on_store`:
        sent by the relay once the result was stored, not relayed from a router)."""
        self.acked += 1
        self.acks_on_store += on_store
        self.ack.record(seconds)
        self._second().acked += 1

    def error(self, text: str) -> None:
        """Keep the first few distinct error messages for the report."""
        if len(self.error_samples) < ERROR_SAMPLES and text not in self.error_samples:
            self.error_samples.append(text)
