"""The authorizer's configuration: `AuthSettings`, read from the environment once per process
and validated (a bad value raises `ConfigError` naming the variable), like the relay's
`wsrelay.config.Settings`.

- ``WSRELAY_AUTH_SECRET_FILE``: a file holding the current HS256 secret on its first line and,
  during a rotation, the previous one on the second;
- ``WSRELAY_AUTH_MODE``: ``enforce`` (default) or ``permissive``;
- ``WSRELAY_AUTH_LEEWAY_SECONDS``: the clock skew allowed on ``exp`` and ``nbf`` (default 5).

Where the secrets come from is a `SecretSource` (the file today; the next source, AWS Secrets
Manager, plugs in beside it without changing the authorizer).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from wsrelay.config import ConfigError
from wsrelay.roles import ENFORCE, MODES

SECRET_FILE = "WSRELAY_AUTH_SECRET_FILE"
MODE = "WSRELAY_AUTH_MODE"
LEEWAY = "WSRELAY_AUTH_LEEWAY_SECONDS"
# RFC 7518 section 3.2: an HS256 key must be at least as long as the hash, 256 bits.
MIN_SECRET_BYTES = 32
MAX_LEEWAY_SECONDS = 300  # more would make ``exp`` meaningless for short-lived tokens
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
        raise ConfigError(f"{SECRET_FILE} must name the file holding the HS256 secret")
    return read_secret_file(path)


@dataclass(frozen=True)
class AuthSettings:
    """Validated configuration of the authorizer; see docs/configuration.md."""

    secrets: tuple[bytes, ...] = field(repr=False)  # current first; never logged
    mode: str = ENFORCE
    leeway_seconds: int = 5
    secret_file: str | None = None  # where `secrets` came from, for `to_env`

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, source: SecretSource = secrets_from_file
    ) -> AuthSettings:
        """Read and validate every variable; raise `ConfigError` naming the first bad one."""
        env = os.environ if env is None else env
        mode = env.get(MODE, "").strip().lower() or cls.mode
        if mode not in MODES:
            raise ConfigError(f"{MODE} must be one of {', '.join(MODES)}, got {mode!r}")
        raw = env.get(LEEWAY, "").strip()
        leeway = cls.leeway_seconds
        if raw:
            try:
                leeway = int(raw)
            except ValueError:
                raise ConfigError(f"{LEEWAY} must be a whole number of seconds, got {raw!r}") from None
            if not 0 <= leeway <= MAX_LEEWAY_SECONDS:
                raise ConfigError(f"{LEEWAY} must be between 0 and {MAX_LEEWAY_SECONDS}, got {leeway}")
        return cls(
            secrets=source(env),
            mode=mode,
            leeway_seconds=leeway,
            secret_file=env.get(SECRET_FILE, "").strip() or None,
        )

    def to_env(self) -> dict[str, str]:
        """The environment variables `from_env` reads back as these settings (never the secrets
        themselves: only the file that holds them)."""
        env = {MODE: self.mode, LEEWAY: str(self.leeway_seconds)}
        if self.secret_file is not None:
            env[SECRET_FILE] = self.secret_file
        return env
