"""A compile job as the router sees it, and how it ends: delivered, timed out (the result did not
exist in time), lost (a worker had the result in time but the router never got it), or still in
flight when the run stops."""

from __future__ import annotations

from dataclasses import dataclass

PENDING, DELIVERED, TIMED_OUT, LOST = "pending", "delivered", "timed_out", "lost"


@dataclass(slots=True, eq=False)
class Job:
    """One job from the router's subscribe to its end."""

    id: int
    router: int
    arrival: float
    deadline: float
    state: str = PENDING
    produced_at: float | None = None  # first time a worker published its result
    delivered_at: float | None = None

    def end(self, now: float) -> str:
        """Close a pending job at its deadline: lost if a worker had the result in time."""
        self.state = LOST if self.produced_at is not None and self.produced_at < now else TIMED_OUT
        return self.state
