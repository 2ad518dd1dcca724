"""Outbound over API Gateway's Management API (``POST /@connections/{id}``), with boto3.

Fan-out runs on a thread pool sized for it, with botocore's connection pool sized to match
(its default of 10 would serialize anything wider). Per post:

- 2xx -> delivered; 410 GoneException -> gone (the relay drops that subscriber);
- 413 PayloadTooLargeException -> too large, logged and counted, never retried;
- 429 LimitExceededException, 5xx and connection errors -> retried with full-jitter backoff,
  bounded by attempts and by a deadline, so a handler always ends well inside API Gateway's 29 s;
- anything else (403, ...) -> failed.

One failed post never stops the others. `close` is ``DELETE /@connections/{id}``
(``delete_connection``), one attempt: 2xx closed, 410 already gone, anything else failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from wsrelay.backoff import Backoff
from wsrelay.outbound.api_errors import ERRORS
from wsrelay.ports import PostReport, PostResult, PostStatus


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Bounded, jittered retries for 429/5xx."""

    backoff: Backoff = field(default_factory=lambda: Backoff(base_s=0.05, cap_s=1.0, max_attempts=4))
    deadline: float = 5.0  # seconds for one post, retries included

    @property
    def max_attempts(self) -> int:
        """Attempts per post, the first included."""
        return self.backoff.max_attempts or 1

    def delay(self, attempt: int) -> float:
        """Full-jitter backoff before retry number `attempt` (1-based)."""
        return self.backoff.delay(attempt - 1)


FANOUT_THREADS = 64


def client_config(pool_size: int = FANOUT_THREADS) -> Any:
    """botocore Config for the Management API client: our own retries, pool sized for fan-out."""
    from botocore.config import Config

    return Config(
        max_pool_connections=pool_size,
        retries={"total_max_attempts": 1, "mode": "standard"},
        connect_timeout=1,
        read_timeout=2,
        tcp_keepalive=True,
    )


class ManagementApiOutbound:
    """The `Outbound` port over a boto3 ``apigatewaymanagementapi`` client."""

    def __init__(
        self,
        client: Any,
        retry: RetryPolicy | None = None,
        executor: ThreadPoolExecutor | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.retry = retry or RetryPolicy()
        self._executor = executor
        self._sleep = sleep

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(FANOUT_THREADS, thread_name_prefix="wsrelay-post")
        return self._executor

    def post(self, connection_ids: Iterable[str], data: str) -> PostReport:
        ids = list(connection_ids)
        payload = data.encode("utf-8")
        if len(ids) <= 1:
            return PostReport([self._post_one(cid, payload) for cid in ids])
        return PostReport(list(self._pool().map(lambda cid: self._post_one(cid, payload), ids)))

    def close(self, connection_id: str) -> PostResult:
        try:
            self.client.delete_connection(ConnectionId=connection_id)
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = error.response.get("Error", {}).get("Code", "")
            message = f"{status} {code}".strip()
            gone = status == 410 or code == ERRORS[410].error_type
            return PostResult(connection_id, PostStatus.GONE if gone else PostStatus.FAILED, 0, message)
        except BotoCoreError as error:
            return PostResult(connection_id, PostStatus.FAILED, 0, f"{type(error).__name__}: {error}")
        return PostResult(connection_id, PostStatus.DELIVERED)

    def _post_one(self, connection_id: str, payload: bytes) -> PostResult:
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                self.client.post_to_connection(ConnectionId=connection_id, Data=payload)
                return PostResult(connection_id, PostStatus.DELIVERED, attempt - 1)
            except ClientError as error:
                status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
                code = error.response.get("Error", {}).get("Code", "")
                message = f"{status} {code}".strip()
                if status == 410 or code == ERRORS[410].error_type:
                    return PostResult(connection_id, PostStatus.GONE, attempt - 1, message)
                if status == 413 or code == ERRORS[413].error_type:
                    return PostResult(connection_id, PostStatus.TOO_LARGE, attempt - 1, message)
                retryable = status == 429 or status >= 500
            except BotoCoreError as error:  # connection refused, timeouts, ...
                message = f"{type(error).__name__}: {error}"
                retryable = True
            elapsed = time.monotonic() - started
            delay = self.retry.delay(attempt)
            if not retryable or attempt >= self.retry.max_attempts or elapsed + delay > self.retry.deadline:
                return PostResult(connection_id, PostStatus.FAILED, attempt - 1, message)
            self._sleep(delay)
