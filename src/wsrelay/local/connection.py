"""One WebSocket connection of the local gateway: its protocol state, the message being
assembled from fragments, its counters (for reproducible faults) and how it closed.

Framing is python-websockets' sans-I/O ``ServerProtocol``; close codes are its
``websockets.frames.CloseCode``. The close is recorded in one place (`close_status`): a close
the gateway starts (idle timeout, DELETE, shutdown, invalid UTF-8, an aborted connection) is
recorded when it starts; otherwise the close frame received or sent (1009 from the protocol
itself when a message is too big) decides, and no close frame at all is 1006.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import State
from websockets.server import ServerProtocol

from wsrelay.local.events import ConnectionInfo

# disconnectReason as API Gateway words it.
REASONS = {
    CloseCode.NORMAL_CLOSURE: "Normal closure",
    CloseCode.GOING_AWAY: "Going away",
    CloseCode.ABNORMAL_CLOSURE: "Connection closed abnormally",
    CloseCode.INVALID_DATA: "Invalid frame payload data",
    CloseCode.MESSAGE_TOO_BIG: "Message too big",
}

ABNORMAL = (int(CloseCode.ABNORMAL_CLOSURE), REASONS[CloseCode.ABNORMAL_CLOSURE])


def reason_for(code: int) -> str:
    """API Gateway's reason for a close code (empty for codes it has no words for)."""
    try:
        return REASONS.get(CloseCode(code), "")
    except ValueError:
        return ""


class Connection:
    """One open WebSocket connection. `ordinal` is its place among the gateway's connections
    (1 = the first accepted); `posts` counts the posts made to it."""

    def __init__(
        self, info: ConnectionInfo, proto: ServerProtocol, writer: asyncio.StreamWriter, ordinal: int
    ) -> None:
        self.info = info
        self.proto = proto
        self.writer = writer
        self.ordinal = ordinal
        self.posts = 0
        self.last_active = time.time()
        self.watchdog: asyncio.TimerHandle | None = None
        self.dropped_at: float | None = None  # when an injected lifetime ends (epoch seconds)
        self._closed_by_gateway: tuple[int, str] | None = None
        self._fragments: list[bytes] = []
        self._binary = False

    @property
    def connection_id(self) -> str:
        return self.info.connection_id

    @property
    def open(self) -> bool:
        return self.proto.state is State.OPEN and not self.writer.is_closing()

    @property
    def finished(self) -> bool:
        """No more messages can arrive (a close was sent or received)."""
        return self.proto.close_expected() or self.proto.state is State.CLOSED

    def receive(self, data: bytes) -> list[tuple[bytes, bool]]:
        """Feed bytes from the socket (``b""`` at EOF); return the messages they completed, each
        as (payload, binary)."""
        if not data:
            self.proto.receive_eof()
            return []
        self.proto.receive_data(data)
        messages: list[tuple[bytes, bool]] = []
        for frame in self.proto.events_received():
            if not isinstance(frame, Frame):
                continue
            if frame.opcode is Opcode.TEXT or frame.opcode is Opcode.BINARY:
                self._fragments, self._binary = [bytes(frame.data)], frame.opcode is Opcode.BINARY
            elif frame.opcode is Opcode.CONT:
                self._fragments.append(bytes(frame.data))
            else:
                continue  # control frames: the protocol answers pings itself
            if frame.fin:
                messages.append((b"".join(self._fragments), self._binary))
                self._fragments = []
        if messages:
            self.last_active = time.time()
        return messages

    def flush(self) -> None:
        """Write what the protocol has to send (and half-close when it says so)."""
        for chunk in self.proto.data_to_send():
            if chunk:
                self.writer.write(chunk)
            elif self.writer.can_write_eof():
                with contextlib.suppress(OSError):
                    self.writer.write_eof()

    def send(self, data: bytes) -> None:
        """Queue a message on the transport (text when it is UTF-8, else binary)."""
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            self.proto.send_binary(data)
        else:
            self.proto.send_text(data)
        self.flush()

    def close(self, code: CloseCode, reason: str | None = None, *, sent: str | None = None) -> None:
        """Start a close from the gateway's side. `reason` is what ``$disconnect`` reports
        (API Gateway's words for `code` by default); `sent` the close frame's reason, when it
        differs (``DELETE @connections`` sends none). Recorded only while the connection is
        open: a close frame already received or sent decides otherwise."""
        reason = reason_for(code) if reason is None else reason
        if self.proto.state is State.OPEN:
            if self._closed_by_gateway is None:
                self._closed_by_gateway = (int(code), reason)
            self.proto.send_close(code, reason if sent is None else sent)
            self.flush()
        self.writer.close()

    def abort(self) -> None:
        """Drop the TCP connection without a close frame (a dead client)."""
        if self._closed_by_gateway is None:
            self._closed_by_gateway = ABNORMAL
        self.writer.transport.abort()

    def close_status(self) -> tuple[int, str]:
        """How the connection closed: (code, reason) as ``$disconnect`` reports them."""
        if self._closed_by_gateway is not None:
            return self._closed_by_gateway
        close = self.proto.close_rcvd or self.proto.close_sent
        if close is None:
            return ABNORMAL
        return int(close.code), close.reason or reason_for(close.code)
