"""The authorizer's configuration: `AuthSettings`, read from the environment once per process
and validated (a bad value raises `ConfigError` naming the variable), like the relay's
`wsrelay.config.Settings`.

- ``WSRELAY_AUTH_SECRET_ARN``: the AWS Secrets Manager secret (ARN or name) whose ``AWSCURRENT``
  and ``AWSPREVIOUS`` versions are the secrets, read when a connection needs them and cached
  for ``WSRELAY_AUTH_SECRET_TTL_SECONDS`` (default 60): what Terraform sets in AWS;
- ``WSRELAY_AUTH_SECRET_FILE``: or a file holding the current HS256 secret on its first line
  and, during a rotation, the previous one on the second, read once (the local stack);
- ``WSRELAY_AUTH_MODE``: ``enforce`` (default) or ``permissive``;
- ``WSRELAY_AUTH_LEEWAY_SECONDS``: the clock skew allowed on ``exp`` and ``nbf`` (default 5).

Exactly one of the two sources is set. `AuthSettings.secret_source` gives the authorizer its
`wsrelay.auth.secrets.Secrets`; a file's secrets are read and checked by `from_env` (a bad file
fails the first invocation naming the variable), a Secrets Manager secret on each refresh (a
secret that cannot be read denies the connection with one log line saying why).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wsrelay.auth.secrets import MIN_SECRET_BYTES, Secrets, SecretsManagerSecrets, static
from wsrelay.config import ConfigError
from wsrelay.roles import ENFORCE, MODES

SECRET_FILE = "WSRELAY_AUTH_SECRET_FILE"
SECRET_ARN = "WSRELAY_AUTH_SECRET_ARN"
SECRET_TTL = "WSRELAY_AUTH_SECRET_TTL_SECONDS"
MODE = "WSRELAY_AUTH_MODE"
LEEWAY = "WSRELAY_AUTH_LEEWAY_SECONDS"
__all__ = ["MIN_SECRET_BYTES", "AuthSettings", "read_secret_file", "secrets_from_file"]
MAX_LEEWAY_SECONDS = 300  # more would make ``exp`` meaningless for short-lived tokens
# How long a Secrets Manager read is reused. Short: a rotation's new secret, and the removal of
# the previous one, take effect within it; 900 s keeps the calls rare without hiding a removal
# for long.
DEFAULT_SECRET_TTL_SECONDS = 60
MAX_SECRET_TTL_SECONDS = 900
MAX_SECRETS = 2  # the current one and, while tokens signed with it live, the previous one

SecretSource = Callable[[Mapping[str, str]], tuple[bytes, ...]]
"""Reads the secrets (current first) from where the environment says; `ConfigError` if it cannot."""


def read_secret_file(path: Path | str, name: str = SECRET_FILE) -> tuple[bytes, ...]:
    """The secrets in `path`: line 1 the current one, line 2 (optional) the previous one.

    Surrounding whitespace and blank trailing lines are ignored; a secret is the line's UTF-8
    bytes. `ConfigError` (naming `name`, the variable or flag) for a file that cannot be read,
    holds no secret, more than two, or one shorter than 32 bytes.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{name} {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError(f"{name} {path}: cannot read: {reason}") from None
    lines = text.strip().splitlines()
    secrets = tuple(line.strip().encode("utf-8") for line in lines)
    if not secrets:
        raise ConfigError(f"{name} {path}: holds no secret (expected the current one on line 1)")
    if len(secrets) > MAX_SECRETS:
        raise ConfigError(
            f"{name} {path}: expected the current secret and at most the previous one, "
            f"got {len(secrets)} lines"
        )
    for number, secret in enumerate(secrets, 1):
        if len(secret) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"{name} {path}: the secret on line {number} is {len(secret)} bytes; HS256 needs at "
                f"least {MIN_SECRET_BYTES} (e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
            )
    return secrets


def secrets_from_file(env: Mapping[str, str]) -> tuple[bytes, ...]:
    """The default `SecretSource`: the file ``WSRELAY_AUTH_SECRET_FILE`` names."""
    path = env.get(SECRET_FILE, "").strip()
    if not path:
        raise ConfigError(
            f"{SECRET_ARN} must name the Secrets Manager secret (or {SECRET_FILE} the file) "
            "holding the HS256 secret"
        )
    return read_secret_file(path)


@dataclass(frozen=True)
class AuthSettings:
    """Validated configuration of the authorizer; see docs/configuration.md."""

    secrets: tuple[bytes, ...] = field(repr=False)  # current first; never logged; () with secret_arn
    mode: str = ENFORCE
    leeway_seconds: int = 5
    secret_file: str | None = None  # where `secrets` came from, for `to_env`
    secret_arn: str | None = None  # the Secrets Manager secret, read per `secret_ttl_seconds`
    secret_ttl_seconds: int = DEFAULT_SECRET_TTL_SECONDS

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, source: SecretSource = secrets_from_file
    ) -> AuthSettings:
        """Read and validate every variable; raise `ConfigError` naming the first bad one.

        `source` reads the secrets when ``WSRELAY_AUTH_SECRET_ARN`` is not set (the file)."""
        env = os.environ if env is None else env
        mode = env.get(MODE, "").strip().lower() or cls.mode
        if mode not in MODES:
            raise ConfigError(f"{MODE} must be one of {', '.join(MODES)}, got {mode!r}")
        leeway = _bounded(env, LEEWAY, cls.leeway_seconds, 0, MAX_LEEWAY_SECONDS)
        ttl = _bounded(env, SECRET_TTL, DEFAULT_SECRET_TTL_SECONDS, 1, MAX_SECRET_TTL_SECONDS)
        arn = env.get(SECRET_ARN, "").strip() or None
        secret_file = env.get(SECRET_FILE, "").strip() or None
        if arn is not None and secret_file is not None:
            raise ConfigError(f"set one of {SECRET_ARN} and {SECRET_FILE}, not both")
        if arn is not None and any(c.isspace() for c in arn):
            raise ConfigError(f"{SECRET_ARN} must be a Secrets Manager secret ARN or name, got {arn!r}")
        return cls(
            secrets=() if arn is not None else source(env),
            mode=mode,
            leeway_seconds=leeway,
            secret_file=secret_file,
            secret_arn=arn,
            secret_ttl_seconds=ttl,
        )

    def secret_source(self) -> Secrets:
        """What the authorizer asks for the secrets: the Secrets Manager secret (cached per
        process for `secret_ttl_seconds`), else the secrets read at start."""
        if self.secret_arn is not None:
            return SecretsManagerSecrets(self.secret_arn, self.secret_ttl_seconds)
        return static(self.secrets)

    def to_env(self) -> dict[str, str]:
        """The environment variables `from_env` reads back as these settings (never the secrets
        themselves: only the file that holds them)."""
        env = {MODE: self.mode, LEEWAY: str(self.leeway_seconds), SECRET_TTL: str(self.secret_ttl_seconds)}
        if self.secret_file is not None:
            env[SECRET_FILE] = self.secret_file
        if self.secret_arn is not None:
            env[SECRET_ARN] = self.secret_arn
        return env


def _bounded(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    """A whole number of seconds in ``low..high`` (`default` when unset); `ConfigError` naming it."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number of seconds, got {raw!r}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low} and {high}, got {value}")
    return value
