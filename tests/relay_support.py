"""What the relay's unit tests share: a result frame, an `Outbound` that records posts and
answers with scripted statuses, and a clock the test moves."""

from __future__ import annotations

from wsrelay.ports import PostReport, PostResult, PostStatus

RESULT = '{"guid":"job-1","code":0,"asm":[{"text":"mov"}]}'


class ScriptedOutbound:
    """Records every post; answers per connection with a status (default delivered)."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []
        self.status: dict[str, PostStatus] = {}

    def post(self, connection_ids, data):
        results = []
        for cid in connection_ids:
            status = self.status.get(cid, PostStatus.DELIVERED)
            if status is PostStatus.DELIVERED:
                self.sent.append((cid, data))
            results.append(PostResult(cid, status, retries=0, error=None))
        return PostReport(results)

    def to(self, cid):
        return [d for c, d in self.sent if c == cid]


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now
