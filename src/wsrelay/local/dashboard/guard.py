"""The dashboard's protection against cross-site requests.

Any web page the developer visits can send requests to ``127.0.0.1``: a form or a ``fetch``
with ``mode: "no-cors"`` reaches the local stack without reading the answer. So every action,
and every read that shows connection ids (the stream, the state), needs the per-run token,
which only the developer has (printed with the page's URL, written to
``STATE_DIR/dashboard-token`` readable by its owner only); and a request that carries a
foreign ``Origin`` is refused even with the token. A request without ``Origin`` is a script
(curl, a load test): the token alone admits it.

Actions take the token in the ``X-Wsrelay-Token`` header, which a cross-site form cannot set
and a cross-site ``fetch`` can set only after a CORS preflight this server never approves.
Reads also take it as ``?token=`` (an ``EventSource`` cannot send headers).
"""

from __future__ import annotations

import contextlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

TOKEN_FILE = "dashboard-token"
TOKEN_HEADER = "x-wsrelay-token"


def new_token(state_dir: Path) -> str:
    """A fresh per-run token, written to ``STATE_DIR/dashboard-token`` (mode 0600)."""
    token = secrets.token_urlsafe(24)
    path = state_dir / TOKEN_FILE
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a previous run's file may have other permissions
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(token + "\n")
    return token


def own_origins(host: str, port: int) -> frozenset[str]:
    """The origins the page itself is served from: the listening address, and loopback by name
    and by number (``--host 127.0.0.1`` is reached as ``localhost`` too)."""
    names = {host, "127.0.0.1", "localhost", "[::1]"}
    return frozenset(f"http://{name}:{port}" for name in names)


class Guard:
    """Judges one request: None when it may go on, else why it is refused (HTTP 403)."""

    def __init__(self, token: str, origins: frozenset[str]) -> None:
        self.token = token
        self.origins = origins

    def refuse(self, headers: Mapping[str, str], query_token: str | None = None) -> str | None:
        """`headers` lower-cased; `query_token` the ``?token=`` of a read (None for an action)."""
        origin = headers.get("origin")
        if origin is not None and origin not in self.origins:
            return f"origin {origin} may not use the dashboard"
        given = headers.get(TOKEN_HEADER) or query_token or ""
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return "the dashboard token is missing or wrong (STATE_DIR/dashboard-token)"
        return None
