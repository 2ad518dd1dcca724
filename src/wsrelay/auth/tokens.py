"""wsrelay's tokens: JWTs signed with HS256 (and nothing else), carrying ``role``, ``exp``, an
optional ``sub`` and ``iat``.

HS256 only: it needs no compiled dependency (PyJWT is pure Python and ships in the Lambda zip;
RS256 would need ``cryptography``), and accepting one algorithm rules out the algorithm-confusion
attacks (``alg: none``, an RS256 header verified with an HMAC key). Any other ``alg`` is refused
before any key is tried.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import jwt

from wsrelay.roles import ROLES

ALGORITHM = "HS256"


class TokenRefused(ValueError):
    """A token the authorizer does not accept; the message says why (it is logged, never sent)."""


@dataclass(frozen=True)
class Claims:
    """What an accepted token says."""

    role: str
    expires_at: int
    subject: str | None = None


def issue(
    secret: bytes, role: str, ttl_s: float, subject: str | None = None, now: float | None = None
) -> str:
    """A token for `role` valid `ttl_s` seconds from `now` (default: the clock), signed with
    `secret` (the current one)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    if not ttl_s > 0:
        raise ValueError(f"the time to live must be positive, got {ttl_s}")
    issued = time.time() if now is None else now
    claims: dict[str, object] = {"role": role, "iat": int(issued), "exp": int(issued + ttl_s)}
    if subject is not None:
        claims["sub"] = subject
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: str, secrets: Sequence[bytes], leeway_s: float) -> Claims:
    """The claims of `token` if one of `secrets` (current first; the previous one during a
    rotation) signed it with HS256 and it is within ``nbf``/``exp`` give or take `leeway_s`;
    else `TokenRefused` saying why."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.InvalidTokenError:
        raise TokenRefused("not a JWT") from None
    if algorithm != ALGORITHM:
        raise TokenRefused(f"alg {algorithm!r} refused: {ALGORITHM} only")
    for secret in secrets:
        try:
            payload = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                leeway=leeway_s,
                options={"require": ["exp", "role"]},
            )
        except jwt.InvalidSignatureError:
            continue  # maybe signed with the other secret (a rotation)
        except jwt.ExpiredSignatureError:
            raise TokenRefused("expired") from None
        except jwt.ImmatureSignatureError:
            raise TokenRefused("not yet valid") from None
        except jwt.MissingRequiredClaimError as error:
            raise TokenRefused(f"no {error.claim} claim") from None
        except jwt.InvalidTokenError as error:
            raise TokenRefused(f"invalid: {error}") from None
        return _claims(payload)
    raise TokenRefused("signature does not match")


def _claims(payload: dict[str, object]) -> Claims:
    role, expires, subject = payload.get("role"), payload.get("exp"), payload.get("sub")
    if role not in ROLES:
        raise TokenRefused(f"role must be one of {', '.join(ROLES)}")
    if subject is not None and not isinstance(subject, str):
        raise TokenRefused("sub must be a string")
    assert isinstance(role, str) and isinstance(expires, int | float)  # PyJWT checked exp
    return Claims(role, int(expires), subject)
