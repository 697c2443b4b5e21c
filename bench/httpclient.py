"""A lean HTTP/1.1 client for posting forms at hundreds per second from the load generator.

httpx costs the load generator about a millisecond of CPU per request, and its pool
rescans every queued request whenever a connection frees (quadratic when hundreds wait:
at 100 tips/s it took most of a core). This client keeps up to `connections` keep-alive
connections (reusing one only while it is fresh, so that the server's keep-alive time-out
never closes it under a request), writes each request in one piece and reads
`Content-Length` (or `Transfer-Encoding: chunked`) responses; requests beyond
`connections` wait their turn in a FIFO. Errors are raised as `HttpError` (or OSError
/ TimeoutError from the socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

MAX_HEAD = 65536
IDLE_SECONDS = 3.0  # below uvicorn's keep-alive time-out (5 s): reuse only fresh ones


class HttpError(Exception):
    """The server's answer could not be read as HTTP/1.1."""


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def reusable(self, now: float) -> bool:
        """Not closed by the server, and not idle long enough for it to close it now."""
        return not self.reader.at_eof() and now - self.idle_since < IDLE_SECONDS


class LeanClient:
    def __init__(self, base_url: str, *, connections: int, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._timeout = timeout
        self._slots = asyncio.Semaphore(connections)
        self._idle: list[_Connection] = []

    async def post_form(self, path: str, form: dict[str, str]) -> Answer:
        body = urlencode(form).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        async with self._slots:
            connection = await self._connection()
            try:
                async with asyncio.timeout(self._timeout):
                    connection.writer.write(head + body)
                    answer, keep = await _read_answer(connection.reader)
            except BaseException:
                connection.writer.close()
                raise
            if keep:
                connection.idle_since = time.monotonic()
                self._idle.append(connection)
            else:
                connection.writer.close()
            return answer

    async def _connection(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if connection.reusable(now):
                return connection
            connection.writer.close()
        return await self._open()

    async def _open(self) -> _Connection:
        async with asyncio.timeout(self._timeout):
            reader, writer = await asyncio.open_connection(self._host, self._port)
        return _Connection(reader, writer)

    async def aclose(self) -> None:
        for connection in self._idle:
            connection.writer.close()
            with contextlib.suppress(OSError):
                await connection.writer.wait_closed()
        self._idle.clear()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[Answer, bool]:
    """The response and whether the connection may be used again."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        raise HttpError("connection closed before an answer") from None
    except asyncio.LimitOverrunError:
        raise HttpError("answer head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split(" ", 2)[1])
    except (IndexError, ValueError):
        raise HttpError(f"not an HTTP status line: {lines[0][:80]!r}") from None
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:] if line)
    }
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _chunked(reader)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    keep = headers.get("connection", "").lower() != "close"
    return Answer(status, body), keep


async def _chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)
