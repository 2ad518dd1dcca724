"""One client's WebSocket through API Gateway, as the real clients keep it.

API Gateway closes every connection after 2 hours (`--connection-max-s`); the reconnect and
outage scenarios also drop them all at once. The client then reopens it through `$connect` (an
invocation of the relay's onconnect function: refused while the relay fails or is throttled,
cold when its compute mode is), following its own retry policy: the router tries every 5 s, 10
times; the worker after 1, 2, 4, 8 and 16 s. A client out of tries is dead: its health check
fails (`on_dead`). Each try opens a new connection id (``<name>.<n>``), as API Gateway gives one.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

from wsrelay.tools.simulate.relay_service import RelayFront
from wsrelay.tools.simulate.switchboard import Endpoint
from wsrelay.tools.simulate.timers import at

RetryDelay = Callable[[int], "float | None"]  # tries failed so far -> delay before the next, None: give up


def fixed_delay(delay_s: float, tries: int) -> RetryDelay:
    """The router's policy: `delay_s` before every try, `tries` tries."""
    return lambda failed: delay_s if failed < tries else None


def doubling_delay(first_s: float, tries: int) -> RetryDelay:
    """The worker's policy: `first_s` x 2^n before try n, `tries` tries."""
    return lambda failed: first_s * 2**failed if failed < tries else None


class Link:
    """The connection of one router or worker, and its reconnects."""

    def __init__(
        self,
        env: simpy.Environment,
        front: RelayFront,
        endpoint: Endpoint,
        name: str,
        max_age_s: float,
        retry_delay: RetryDelay,
        on_up: Callable[[], None],
        on_dead: Callable[[], None],
    ) -> None:
        self.env = env
        self.front = front
        self.endpoint = endpoint
        self.name = name
        self.max_age_s = max_age_s
        self.retry_delay = retry_delay
        self.on_up = on_up
        self.on_dead = on_dead
        self.serial = 0
        self.id = f"{name}.0"
        self.up = False
        self.dead = False
        self.retired = False
        self.failed_tries = 0
        self.reconnects = 0

    def open_existing(self, closes_in_s: float) -> None:
        """The connection was opened before the run; API Gateway closes it in `closes_in_s`."""
        self.up = True
        self.front.switchboard.opened(self.id, self.endpoint)
        self._close_after(closes_in_s)

    def open(self) -> None:
        """A new client (a worker just launched) connects through `$connect`."""
        self._try()

    def drop(self) -> None:
        """API Gateway closes the connection (its maximum age, or an outage)."""
        if self.up and not self.retired:
            self.front.switchboard.closed(self.id)
            self.up = False
            self._retry()

    def closed_by_relay(self, connection_id: str) -> None:
        """The relay closed `connection_id` (``DELETE @connections``): reconnect as on any close."""
        if connection_id == self.id and self.up:
            self.up = False
            self._retry()

    def retire(self) -> None:
        """The client stops (scale-in, or dead): its connection goes, and no reconnect."""
        self.retired = True
        if self.up:
            self.front.switchboard.closed(self.id)
            self.up = False

    def _close_after(self, delay_s: float) -> None:
        serial = self.serial
        at(self.env, delay_s, lambda: self.drop() if self.serial == serial else None)

    def _retry(self) -> None:
        delay = self.retry_delay(self.failed_tries)
        if delay is None:
            self.dead = True
            self.on_dead()
            return
        at(self.env, delay, self._try)

    def _try(self) -> None:
        if self.retired:
            return
        self.serial += 1
        connection_id = f"{self.name}.{self.serial}"
        self.front.connect(connection_id, self.endpoint, lambda ok: self._answered(connection_id, ok))

    def _answered(self, connection_id: str, ok: bool) -> None:
        if self.retired:
            if ok:
                self.front.switchboard.closed(connection_id)
            return
        if not ok:
            self.failed_tries += 1
            self._retry()
            return
        self.id, self.up, self.failed_tries = connection_id, True, 0
        self.reconnects += 1
        self._close_after(self.max_age_s)
        self.on_up()
