"""What one load generator counts while it runs: jobs, latencies and per-second series
(`wsrelay.tools.loadtest.seconds`)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from wsrelay.tools.loadtest.histograms import Latency
from wsrelay.tools.loadtest.seconds import Intervals

ERROR_SAMPLES = 5


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
    intervals: Intervals = field(default_factory=Intervals)  # per wall-clock second
    error_samples: list[str] = field(default_factory=list)

    def job_sent(self) -> None:
        """A job started (its subscribe is being sent)."""
        self.sent += 1
        self.intervals.sent(time.time())

    def delivered_after(self, seconds: float) -> None:
        """A result arrived `seconds` after its intended publish time."""
        self.delivered += 1
        self.deliver.record(seconds)
        self.intervals.delivered(time.time(), seconds)

    def acked_after(self, seconds: float, on_store: bool = False) -> None:
        """An ack reached the publisher `seconds` after the intended publish time (`on_store`:
        sent by the relay once the result was stored, not relayed from a router)."""
        self.acked += 1
        self.acks_on_store += on_store
        self.ack.record(seconds)
        self.intervals.acked(time.time())

    def error(self, text: str) -> None:
        """Keep the first few distinct error messages for the report."""
        if len(self.error_samples) < ERROR_SAMPLES and text not in self.error_samples:
            self.error_samples.append(text)
