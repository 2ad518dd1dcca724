"""The exceptions `wsrelay.client` raises: each says what gave up and why."""

from __future__ import annotations


class RelayClientError(Exception):
    """Base class of every error raised by `wsrelay.client`."""


class ConnectError(RelayClientError):
    """The first connection to the relay failed (bad URL, refused, rejected upgrade, timeout).

    Raised by ``start()`` at once, without retrying: a wrong endpoint should fail fast. Once a
    client has been connected, losing the connection makes it reconnect instead.
    """


class ResultTimeout(RelayClientError, TimeoutError):
    """`Subscriber.wait` saw no result for the guid within its timeout."""

    def __init__(self, guid: str, timeout: float) -> None:
        super().__init__(f"no result for {guid} within {timeout:g} s")
        self.guid = guid
        self.timeout = timeout


class ResultFetchError(RelayClientError):
    """A result announced by ``s3Key`` could not be read from S3 (it was not acked: the relay
    still holds the light message, and a later ``subscribe`` gets it again)."""


class PublishFailed(RelayClientError):
    """`Publisher.publish` gave up: no ack after every resend, or the relay stayed unreachable."""

    def __init__(self, guid: str, attempts: int, reason: str) -> None:
        super().__init__(f"publish of {guid} failed after {attempts} send(s): {reason}")
        self.guid = guid
        self.attempts = attempts
        self.reason = reason


class ClientClosed(RelayClientError):
    """The client was closed while an operation was waiting."""
