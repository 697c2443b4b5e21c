"""The fan-out floor: a bare websocket broadcaster, for the ceiling `bench.fanout` shows.

It accepts `/ws` upgrades (RFC 6455 handshake, nothing else) and `broadcast` writes one
pre-built frame to every connection in a loop — no framework, no per-connection task, no
scope check, the frame built once. The same client processes time it as they time the
server, so the difference is what the service's layers cost on this machine.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import socket
import time
from typing import cast

from bench.wsclient import GUID
from command_center.realtime.frames import text_frame

MAX_HEAD = 16384


class _Connection(asyncio.Protocol):
    def __init__(self, owner: Broadcaster) -> None:
        self._owner = owner
        self._head = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self in self._owner.connections or self.transport is None:
            return  # after the handshake: client frames (pongs, close) are ignored
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > MAX_HEAD:
                self.transport.close()
            return
        key = b""
        for line in bytes(self._head[:end]).split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"sec-websocket-key":
                key = value.strip()
        accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
            b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
        )
        self._owner.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._owner.connections.discard(self)


class Broadcaster:
    def __init__(self) -> None:
        self.connections: set[_Connection] = set()
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        """Listen on a free loopback port; the `ws://` URL of `/ws` there."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        self._server = await loop.create_server(lambda: _Connection(self), sock=sock, backlog=4096)
        return f"ws://127.0.0.1:{sock.getsockname()[1]}/ws"

    def broadcast(self, event_id: int) -> float:
        """Write one event frame to every connection; the perf_counter before the first."""
        body = f'{{"id":{event_id},"type":"floor.probe","data":{{"pad":"{"x" * 1000}"}}}}'
        frame = text_frame(body)
        sent_at = time.perf_counter()
        for connection in self.connections:
            if connection.transport is not None:
                connection.transport.write(frame)
        return sent_at

    async def stop(self) -> None:
        for connection in list(self.connections):
            if connection.transport is not None:
                connection.transport.close()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
