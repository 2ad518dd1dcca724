"""Secrets, secret files and tokens the authorization tests share (fixed bytes, no randomness)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import websockets
from websockets.exceptions import InvalidStatus

from wsrelay.auth.tokens import issue

# 48 bytes each: HS256 needs at least 32, and the HS384 forgery in the tests is warning-free
SECRET = b"current-secret-" + b"c" * 33
PREVIOUS = b"previous-secret-" + b"p" * 32
OTHER = b"someone-elses-secret-" + b"o" * 27
METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/$connect"


def secret_file(folder: Path, *secrets: bytes) -> Path:
    """A secret file: the current secret on line 1, the previous one (if given) on line 2."""
    path = folder / "auth-secret"
    path.write_bytes(b"\n".join(secrets or (SECRET,)) + b"\n")
    return path


def token(role: str = "both", ttl_s: float = 300, secret: bytes = SECRET, **claims: object) -> str:
    """A token; extra `claims` (``exp``, ``nbf``, ``role``...) are signed in as given."""
    if not claims and ttl_s > 0:
        return issue(secret, role, ttl_s)
    now = int(time.time())
    return jwt.encode(
        {"role": role, "iat": now, "exp": now + int(ttl_s), **claims}, secret, algorithm="HS256"
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def with_header(header: dict[str, str], secret: bytes = SECRET, role: str = "both") -> str:
    """A token whose header says `header` (e.g. ``alg: RS256``) but whose signature is HMAC-SHA256
    with `secret`: the algorithm-confusion forgery."""
    payload = {"role": role, "exp": int(time.time()) + 300}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def authorizer_event(token_value: str | None, connection_id: str = "Abc123=") -> dict:
    """A REQUEST authorizer event for $connect, as API Gateway's documentation shows it."""
    query = {} if token_value is None else {"token": token_value}
    return {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "headers": {"Host": "abcdef123.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {"Host": ["abcdef123.execute-api.us-east-1.amazonaws.com"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "stageVariables": {},
        "requestContext": {"routeKey": "$connect", "eventType": "CONNECT", "connectionId": connection_id},
    }


async def status_of(url: str) -> int:
    """The HTTP status that refuses the upgrade (101 when it is accepted)."""
    try:
        async with websockets.connect(url):
            return 101
    except InvalidStatus as refused:
        return refused.response.status_code
