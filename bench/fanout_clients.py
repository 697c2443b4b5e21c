"""One client process of `bench.fanout`: holds websocket connections, notes arrivals.

    python -m bench.fanout_clients URL      (driven by bench.fanout over stdin/stdout)

Reads one JSON command per line on stdin and answers one JSON line on stdout:

- `{"cmd": "open", "count": N[, "url": U]}` opens N more connections to URL (or U; at
  most HANDSHAKES_AT_ONCE handshakes at a time) → `{"held", "failed", "first_failure"}`;
- `{"cmd": "close"}` closes every connection and forgets them → `{"held": 0, ...}`;
- `{"cmd": "report", "ids": [...]}` → `{"held", "closed", "events": {id: [copies,
  first, last]}}`, arrival times as `time.perf_counter()` (CLOCK_MONOTONIC on Linux,
  shared by every process of the machine);
- `{"cmd": "quit"}` closes every connection and exits. End of stdin does the same, so a
  client process never outlives its driver.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from typing import Any

from bench import wsclient
from bench.wsclient import HandshakeFailed, Listener, open_listener

HANDSHAKES_AT_ONCE = 100
SPARE_FILES = 64


class Holder:
    def __init__(self, url: str) -> None:
        self.url = url
        self.listeners: list[Listener] = []
        self.arrivals: dict[int, list[float]] = {}
        self.failed = 0
        self.first_failure: str | None = None

    def arrived(self, message: bytes, at: float) -> None:
        event_id = wsclient.event_id(message)
        if event_id is None:
            return
        seen = self.arrivals.get(event_id)
        if seen is None:
            self.arrivals[event_id] = [1, at, at]
        else:
            seen[0] += 1
            seen[2] = at

    async def open(self, count: int, url: str | None = None) -> dict[str, Any]:
        _allow_files(len(self.listeners) + count + SPARE_FILES)
        gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)

        async def one() -> None:
            async with gate:
                try:
                    self.listeners.append(await open_listener(url or self.url, self.arrived))
                except (OSError, HandshakeFailed, TimeoutError) as exc:
                    self.failed += 1
                    self.first_failure = self.first_failure or f"{type(exc).__name__}: {exc}"

        await asyncio.gather(*(one() for _ in range(count)))
        return {"held": self.held(), "failed": self.failed, "first_failure": self.first_failure}

    def held(self) -> int:
        return sum(not listener.closed.done() for listener in self.listeners)

    def report(self, ids: list[int]) -> dict[str, Any]:
        events = {str(i): self.arrivals[i] for i in ids if i in self.arrivals}
        return {"held": self.held(), "closed": len(self.listeners) - self.held(), "events": events}

    def close(self) -> None:
        for listener in self.listeners:
            listener.close()

    async def forget(self) -> dict[str, Any]:
        self.close()
        await asyncio.sleep(0.1)
        self.listeners, self.arrivals, self.failed, self.first_failure = [], {}, 0, None
        return {"held": 0, "failed": 0, "first_failure": None}


def _allow_files(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        limit = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))


async def serve(url: str) -> None:
    holder = Holder(url)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            command = json.loads(line)
            if command["cmd"] == "open":
                answer = await holder.open(int(command["count"]), command.get("url"))
            elif command["cmd"] == "close":
                answer = await holder.forget()
            elif command["cmd"] == "report":
                answer = holder.report([int(i) for i in command["ids"]])
            else:
                break
            sys.stdout.write(json.dumps(answer) + "\n")
            sys.stdout.flush()
    finally:
        holder.close()
        await asyncio.sleep(0.1)  # let the close frames go out


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m bench.fanout_clients WS_URL")
    try:
        import uvloop

        uvloop.run(serve(sys.argv[1]))
    except ImportError:
        asyncio.run(serve(sys.argv[1]))


if __name__ == "__main__":
    main()
