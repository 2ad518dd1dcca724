"""Talking to a `wsrelay serve --dashboard` started by the `served` fixture: its URL and token,
plain HTTP requests with chosen headers, and reading its event stream."""

from __future__ import annotations

import http.client
import json
import re
import urllib.parse
from dataclasses import dataclass

from gateway_support import Served

from wsrelay.local.dashboard.guard import TOKEN_FILE


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


def request(served: Served, method: str, path: str, body: bytes | str = b"", **headers: str) -> Answer:
    """One HTTP request to the server (header names with ``_`` for ``-``)."""
    host = urllib.parse.urlsplit(served.stats_url).netloc
    connection = http.client.HTTPConnection(host, timeout=10)
    try:
        named = {name.replace("_", "-"): value for name, value in headers.items()}
        connection.request(method, path, body=body, headers=named)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def dashboard_url(served: Served) -> str:
    """The page's URL (with its token) from the first line `serve` printed."""
    match = re.search(r" dashboard=(\S+)", served.output[0])
    assert match, served.output[0]
    return match.group(1)


def token(served: Served) -> str:
    return (served.state_dir / TOKEN_FILE).read_text().strip()


class EventStream:
    """``GET /_wsrelay/events``, read one server-sent event at a time (blocking, with a timeout)."""

    def __init__(self, served: Served, token: str) -> None:
        host = urllib.parse.urlsplit(served.stats_url).netloc
        self.connection = http.client.HTTPConnection(host, timeout=15)
        self.connection.request("GET", f"/_wsrelay/events?token={urllib.parse.quote(token)}")
        self.response = self.connection.getresponse()
        self.events: list[dict] = []

    def read_batch(self) -> list[dict]:
        """The next ``data:`` line's JSON array (other lines, ``retry:``, are skipped)."""
        while True:
            line = self.response.readline()
            if not line:
                raise EOFError("the event stream ended")
            if line.startswith(b"data: "):
                batch = json.loads(line[len(b"data: ") :])
                assert isinstance(batch, list)
                self.events += batch
                return batch

    def until(self, predicate, limit: int = 200) -> dict:
        """Read batches until an event satisfies `predicate`; that event."""
        for event in self.events:
            if predicate(event):
                return event
        for _ in range(limit):
            for event in self.read_batch():
                if predicate(event):
                    return event
        raise AssertionError(f"no such event in {len(self.events)} events")

    def close(self) -> None:
        self.connection.close()
