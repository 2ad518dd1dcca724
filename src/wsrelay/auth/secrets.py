"""Where the authorizer's HS256 secrets come from, asked on every invocation that carries a token.

A `Secrets` is a callable returning the secrets, the current one first; it raises
`SecretUnavailable` (one line, never any secret material) when they cannot be read, and the
authorizer then denies the connection and logs that line.

- `static`: secrets read once at start (``WSRELAY_AUTH_SECRET_FILE``, `wsrelay serve`);
- `SecretsManagerSecrets`: a Secrets Manager secret (``WSRELAY_AUTH_SECRET_ARN``), the versions
  staged ``AWSCURRENT`` and ``AWSPREVIOUS``, so that a rotation (``put-secret-value`` moves
  ``AWSPREVIOUS`` to the old version) needs no downtime. Both are cached per process for a short
  TTL: a warm authorizer calls Secrets Manager twice per TTL, not per connection, and sees a
  rotation (or the removal of ``AWSPREVIOUS``) within one TTL.

This is the only module of `wsrelay.auth` that imports the AWS SDK, and only when a
`SecretsManagerSecrets` first reads: the file source, `wsrelay token` and the local stack's
in-process authorizer never import boto3 through it (boto3 is in the Lambda runtime).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash, 256 bits.
MIN_SECRET_BYTES = 32
CURRENT = "AWSCURRENT"
PREVIOUS = "AWSPREVIOUS"
# The authorizer answers within API Gateway's 29 s, and a connection waits for it: a slow or
# unreachable Secrets Manager must fail fast (then the connection is denied, the client retries).
CONNECT_TIMEOUT_S = 2
READ_TIMEOUT_S = 3
ATTEMPTS = 2

Secrets = Callable[[], tuple[bytes, ...]]
"""The secrets, current first; `SecretUnavailable` when they cannot be read."""


class SecretUnavailable(RuntimeError):
    """The secrets cannot be read; the message says which secret and why, in one line."""


def static(secrets: tuple[bytes, ...]) -> Secrets:
    """A `Secrets` that always returns `secrets` (read and checked at start)."""
    return lambda: secrets


def _client() -> Any:
    """A Secrets Manager client with short timeouts (region and endpoint from the environment,
    as the SDK resolves them: ``AWS_REGION``, ``AWS_ENDPOINT_URL_SECRETS_MANAGER``)."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"mode": "standard", "total_max_attempts": ATTEMPTS},
    )
    return boto3.client("secretsmanager", config=config)


class SecretsManagerSecrets:
    """The ``AWSCURRENT`` and ``AWSPREVIOUS`` versions of one Secrets Manager secret, cached for
    `ttl_s` seconds.

    Each version's ``SecretString`` (or ``SecretBinary``) is one HS256 secret of at least 32
    bytes, surrounding whitespace ignored. No ``AWSPREVIOUS`` version is normal (no rotation
    under way). A failed read is not cached, so the next connection tries again; nor is a stale
    value used after its TTL, so a removed secret stops being accepted within one TTL.
    """

    def __init__(
        self,
        secret_id: str,
        ttl_s: float,
        client: Callable[[], Any] = _client,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.secret_id = secret_id
        self.ttl_s = ttl_s
        self._make_client = client
        self._client: Any = None
        self._clock = clock
        self._cached: tuple[bytes, ...] | None = None
        self._expires = 0.0
        # The local stack runs the authorizer on a thread pool; one refresh at a time.
        self._lock = threading.Lock()
        self.reads = 0  # refreshes done (both versions each): what the cache saves

    def __call__(self) -> tuple[bytes, ...]:
        with self._lock:
            now = self._clock()
            if self._cached is None or now >= self._expires:
                self._cached = None
                secrets = self._read()
                self._cached, self._expires = secrets, now + self.ttl_s
            return self._cached

    def _read(self) -> tuple[bytes, ...]:
        self.reads += 1
        if self._client is None:
            self._client = self._make_client()
        current = self._version(CURRENT)
        assert current is not None  # only AWSPREVIOUS may be absent
        previous = self._version(PREVIOUS)
        return (current,) if previous is None or previous == current else (current, previous)

    def _version(self, stage: str) -> bytes | None:
        """The secret staged `stage`, or None when no version carries that label."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client.get_secret_value(SecretId=self.secret_id, VersionStage=stage)
        except ClientError as error:
            details = error.response.get("Error", {})
            code = details.get("Code", "error")
            if code == "ResourceNotFoundException" and stage == PREVIOUS:
                return None  # no rotation under way (or its previous secret was removed)
            hint = ""
            if code == "ResourceNotFoundException":  # AWS says the same for both causes
                hint = (
                    " (no such secret, or no AWSCURRENT value yet: put one with "
                    "aws secretsmanager put-secret-value)"
                )
            message = str(details.get("Message") or "").strip()
            raise SecretUnavailable(
                f"secret {self.secret_id} ({stage}) cannot be read: {code}: {message}{hint}"
            ) from None
        except BotoCoreError as error:
            raise SecretUnavailable(
                f"secret {self.secret_id} ({stage}) cannot be read: Secrets Manager unreachable: {error}"
            ) from None
        raw = response.get("SecretString")
        value = raw.encode("utf-8") if isinstance(raw, str) else bytes(response.get("SecretBinary") or b"")
        value = value.strip()
        if len(value) < MIN_SECRET_BYTES:
            raise SecretUnavailable(
                f"secret {self.secret_id} ({stage}) is {len(value)} bytes; HS256 needs at least "
                f"{MIN_SECRET_BYTES}"
            )
        return value
