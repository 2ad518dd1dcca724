"""Plain configuration of the clients: dataclasses with the real clients' defaults."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wsrelay.backoff import Backoff
from wsrelay.config import aws_region

# The worker's threshold: JSON.stringify(result).length > 31 * 1024 goes to S3.
OFFLOAD_THRESHOLD = 31 * 1024
# A result message without any of these fields, but with s3Key, is completed from S3.
RESULT_FIELDS = ("asm", "stdout", "stderr", "code", "output", "result")


TOKEN_PARAMETER = "token"  # the $connect authorizer's identity source (docs/protocol.md)


def with_token(url: str, token: str | None) -> str:
    """`url` with ``token=<token>`` added to its query string (`url` itself when `token` is
    None): how a client presents its token to the $connect authorizer."""
    if token is None:
        return url
    separator = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{separator}{TOKEN_PARAMETER}={urllib.parse.quote(token, safe='')}"


@dataclass(frozen=True)
class S3Config:
    """Where large results live: ``s3://bucket/<prefix><s3Key>``.

    `endpoint_url` and `region` default to boto3's own resolution (environment, profile); set
    `endpoint_url` for a local S3 such as moto's server.
    """

    bucket: str
    prefix: str = "cache/"
    endpoint_url: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class ConnectionConfig:
    """What both clients need to hold one long-lived connection.

    - `headers`: extra headers of the upgrade request;
    - `token`: the $connect authorizer's token, sent as ``?token=`` on every connection (and
      reconnection); never shown in errors or the config's repr;
    - `credentials`: AWS credentials (botocore's, e.g. ``boto3.Session().get_credentials()``)
      that sign every upgrade request with SigV4, for a ``$connect`` route with IAM
      authorization (`wsrelay.client.sigv4`); `region` is the API's (default: from an
      ``execute-api`` URL, else ``AWS_REGION``, else ``us-east-1``); never in the repr;
    - `ping_interval_s` / `ping_timeout_s`: protocol-level pings that detect a dead connection;
    - `idle_ping_s`: the text ``ping`` sent when nothing else was sent for this long (API Gateway
      closes a connection idle for 10 minutes and counts only data frames as activity);
    - `open_timeout_s`: one connection attempt (TCP, TLS, upgrade, ``$connect``);
    - `backoff`: reconnect delays after a lost connection.
    """

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)
    credentials: Any = field(default=None, repr=False)
    region: str | None = None
    ping_interval_s: float | None = 30.0
    ping_timeout_s: float | None = 30.0
    idle_ping_s: float = 300.0
    open_timeout_s: float = 10.0
    backoff: Backoff = field(default_factory=Backoff)
    max_frame_bytes: int = 1 << 20

    def __post_init__(self) -> None:
        if not self.url.startswith(("ws://", "wss://")):
            raise ValueError(f"url must start with ws:// or wss://, got {self.url!r}")
        if self.idle_ping_s <= 0 or self.open_timeout_s <= 0:
            raise ValueError("idle_ping_s and open_timeout_s must be positive")
        if self.token is not None and not self.token:
            raise ValueError("token must not be empty (None: no token)")

    @property
    def connect_url(self) -> str:
        """The URL each connection opens: `url` with the token, if any."""
        return with_token(self.url, self.token)

    def upgrade_headers(self) -> dict[str, str]:
        """The extra headers of one upgrade request: `headers`, and with `credentials` a fresh
        SigV4 signature of `connect_url` (each connection signs its own: they expire)."""
        headers = dict(self.headers)
        if self.credentials is not None:
            from wsrelay.client.sigv4 import region_of, signed_headers

            region = self.region or region_of(self.url) or aws_region()
            headers.update(signed_headers(self.connect_url, self.credentials, region))
        return headers


@dataclass(frozen=True)
class SubscriberConfig(ConnectionConfig):
    """The router side. It never gives up reconnecting (`backoff.max_attempts` is ignored) while
    it is open, and resubscribes every awaited guid after a reconnect.

    - `backoff`: the first reconnect of a dropped connection within 50 ms (then doubling up to
      10 s while attempts fail): every result published meanwhile waits for the router, and the
      replay of that backlog is what a new connection starts with (docs/benchmarks.md, "The
      feedback loop: a resubscribe storm"); 50 ms still spreads a fleet's routers dropped at once;

    - `s3`: where ``s3Key`` results are read (None: such a result is returned as it came);
    - `ack_replay_s`: acks sent this long before a connection was lost are sent again after the
      reconnect (a frame written just before the connection died may never have arrived; a second
      ack is harmless, a lost one leaves the worker resending and the result stored);
    - `resubscribe_batch`: after a reconnect, awaited guids are subscribed again this many at a
      time, each batch closed by a ``ping`` whose ``pong`` releases the next.
    """

    backoff: Backoff = field(default_factory=lambda: Backoff(base_s=0.05))
    s3: S3Config | None = None
    ack_replay_s: float = 5.0
    resubscribe_batch: int = 100

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.resubscribe_batch < 1:
            raise ValueError("resubscribe_batch must be at least 1")


@dataclass(frozen=True)
class PublisherConfig(ConnectionConfig):
    """The worker side.

    - `ack_timeout_s`, `max_resends`: the worker's 3 s and 3 resends of the same JSON;
    - `offload_threshold`: results whose JSON is longer, in UTF-8 bytes, go to S3 first (needs
      `s3`). The worker counts JavaScript string length; bytes are never fewer, and bytes are what
      the relay's 32 KB frame limit counts;
    - `max_lost_sends`: a result whose connection is lost right after (within 1 s of) each of
      this many sends in a row fails with `PublishFailed` (a relay that closes on it, e.g. 1009,
      would otherwise be retried forever); a loss later, while the ack is slow, resets the count;
    - `backoff`: bounded by default (`max_attempts` 10): a publish raises `PublishFailed` when the
      relay stays unreachable, instead of hanging.
    """

    backoff: Backoff = field(default_factory=lambda: Backoff(max_attempts=10))
    ack_timeout_s: float = 3.0
    max_resends: int = 3
    offload_threshold: int = OFFLOAD_THRESHOLD
    max_lost_sends: int = 10
    s3: S3Config | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.ack_timeout_s <= 0 or self.max_resends < 0 or self.max_lost_sends < 1:
            raise ValueError("ack_timeout_s must be positive, max_resends >= 0, max_lost_sends >= 1")
