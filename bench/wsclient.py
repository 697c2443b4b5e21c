"""A lean websocket client for holding thousands of `/ws` connections in one process.

The `websockets` library costs tens of microseconds per message, which with 10,000
connections on the machine under test would measure the load generator rather than the
server. This client speaks just enough of RFC 6455 to listen: the opening handshake
(checking `Sec-WebSocket-Accept`), unmasked server frames (text, ping, close,
fragmented messages), and masked pong and close frames back, as the RFC requires of
clients. Each whole message goes to a callback with the `time.perf_counter()` of its
arrival; `event_id` reads the id at the start of the JSON (`{"id":N,...`, as the server
writes it) without parsing the rest.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import struct
import time
from collections.abc import Callable
from typing import cast
from urllib.parse import urlsplit

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
EVENT_ID = re.compile(rb'^\{"id":(\d+)')
MAX_HEAD = 16384
OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10

OnMessage = Callable[[bytes, float], None]


def event_id(message: bytes) -> int | None:
    match = EVENT_ID.match(message)
    return int(match.group(1)) if match is not None else None


class HandshakeFailed(Exception):
    """The server did not switch protocols; the message carries its status line."""


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked client frame (short payloads only: pongs and closes)."""
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + masked


class Listener(asyncio.Protocol):
    """One `/ws` connection; `on_message(message, perf_counter)` for every message."""

    def __init__(self, host: str, target: str, on_message: OnMessage) -> None:
        self._key = base64.b64encode(os.urandom(16))
        self._request = (
            (
                f"GET {target} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            ).encode()
            + b"Sec-WebSocket-Key: "
            + self._key
            + b"\r\n\r\n"
        )
        self._on_message = on_message
        self._buffer = bytearray()
        self._fragments: list[bytes] = []
        self._upgraded = False
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if not self._upgraded and not self._handshake():
            return
        self._frames()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_exception(exc or ConnectionError("closed during the handshake"))
        if not self.closed.done():
            self.closed.set_result(1006)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_client_frame(OP_CLOSE, struct.pack("!H", 1000)))
            self.transport.close()

    def _handshake(self) -> bool:
        end = self._buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buffer) > MAX_HEAD:
                self._fail("response head too large")
            return False
        head = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
        del self._buffer[: end + 4]
        expected = base64.b64encode(hashlib.sha1(self._key + GUID).digest()).decode()
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in head[1:])
        }
        if " 101 " not in head[0] + " " or headers.get("sec-websocket-accept") != expected:
            self._fail(head[0])
            return False
        self._upgraded = True
        self.opened.set_result(None)
        return True

    def _fail(self, status: str) -> None:
        if not self.opened.done():
            self.opened.set_exception(HandshakeFailed(status))
        if self.transport is not None:
            self.transport.close()

    def _frames(self) -> None:
        buffer = self._buffer
        while len(buffer) >= 2:
            first, second = buffer[0], buffer[1]
            length, offset = second & 0x7F, 2
            if second & 0x80:  # servers must not mask
                self._fail("masked server frame")
                return
            if length == 126:
                if len(buffer) < 4:
                    return
                length, offset = struct.unpack_from("!H", buffer, 2)[0], 4
            elif length == 127:
                if len(buffer) < 10:
                    return
                length, offset = struct.unpack_from("!Q", buffer, 2)[0], 10
            if len(buffer) < offset + length:
                return
            payload = bytes(buffer[offset : offset + length])
            del buffer[: offset + length]
            self._message(first & 0x0F, bool(first & 0x80), payload)

    def _message(self, opcode: int, fin: bool, payload: bytes) -> None:
        if opcode == OP_PING and self.transport is not None:
            self.transport.write(_client_frame(OP_PONG, payload[:125]))
        elif opcode == OP_CLOSE:
            code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
            if not self.closed.done():
                self.closed.set_result(code)
            if self.transport is not None:
                self.transport.close()
        elif opcode in (OP_TEXT, OP_BINARY, OP_CONTINUATION):
            self._fragments.append(payload)
            if fin:
                message = b"".join(self._fragments)
                self._fragments.clear()
                self._on_message(message, time.perf_counter())


async def open_listener(url: str, on_message: OnMessage, *, timeout: float = 30.0) -> Listener:
    """Connect to a `ws://host:port/path?query` URL; raises OSError, HandshakeFailed or
    TimeoutError."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(timeout):
        _, listener = await loop.create_connection(
            lambda: Listener(f"{host}:{port}", target, on_message), host, port
        )
        await listener.opened
    return listener
