"""A compile job as the router sees it, and how it ends: delivered, timed out (the result did not
exist in time), lost (a worker had the result in time but the router never got it), or still in
flight when the run stops. Its guid on the wire is ``g<id>``."""

from __future__ import annotations

import json
from dataclasses import dataclass

PENDING, DELIVERED, TIMED_OUT, LOST = "pending", "delivered", "timed_out", "lost"


def guid_of(job_id: int) -> str:
    """The guid of job `job_id` on the wire."""
    return f"g{job_id}"


def result_frame(job_id: int) -> str:
    """The worker's result frame: a JSON object with a top-level guid (docs/protocol.md)."""
    return f'{{"guid":"{guid_of(job_id)}"}}'


def job_of(frame: str) -> tuple[int, bool] | None:
    """(job id, is an ack) of a JSON frame a client received, or None for any other frame."""
    if not frame.startswith("{"):
        return None
    body = json.loads(frame)
    guid = body.get("guid")
    if not isinstance(guid, str) or not guid.startswith("g"):
        return None
    return int(guid[1:]), body.get("type") == "ack"


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
