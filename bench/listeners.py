"""Websocket listeners: which `clue.dispatched` event reached whom, and when.

Each listener holds one `/ws` connection with a squad's or an operator's token and notes
the `time.perf_counter()` at which every dispatch arrived. A dropped connection (e.g. 1013,
fell behind) reconnects with `after=<last id>`, so late events still count, as delivered
late; a 44xx close (token refused) ends the listener. Handshakes are gated so that many
listeners do not overrun the server's accept backlog.

Connections use the lean client of bench.wsclient, without compression (`serve` turns
per-message deflate off): with 1,000 listeners the `websockets` library cost the load
generator most of a core at 100 tips/s, on the cores the server under test runs on. Only
`clue.dispatched` messages are parsed as JSON; the rest only for their id.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench.wsclient import HandshakeFailed, event_id, open_listener

HANDSHAKES_AT_ONCE = 64
CONNECT_ATTEMPTS = 4
OPEN_TIMEOUT_SECONDS = 30.0
DISPATCHED = b'"type":"clue.dispatched"'


@dataclass(slots=True)
class Delivery:
    """A dispatch as the squad's listeners saw it: first and last copy, and how many."""

    squad_code: str
    first_at: float
    last_at: float
    copies: int = 1


@dataclass
class Deliveries:
    """Everything the listeners received, keyed by service_request_id."""

    to_squads: dict[str, Delivery] = field(default_factory=dict)
    to_operators: dict[str, Delivery] = field(default_factory=dict)
    wrong_squad: int = 0

    def record(self, *, request_id: str, squad_code: str, listener: str | None, at: float) -> None:
        if listener is not None and squad_code != listener:
            self.wrong_squad += 1
            return
        seen_by = self.to_operators if listener is None else self.to_squads
        if (seen := seen_by.get(request_id)) is None:
            seen_by[request_id] = Delivery(squad_code, at, at)
        else:
            seen.last_at = at
            seen.copies += 1


@dataclass
class ListenerStats:
    planned: int = 0
    connected: int = 0
    operators: int = 0  # of the connected
    failed: int = 0
    rejected: int = 0
    reconnects: int = 0
    close_codes: Counter[int] = field(default_factory=Counter)
    first_failure: str | None = None


class ListenerPool:
    """`plan` lists one entry per connection: a squad code, or None for an operator."""

    def __init__(
        self,
        *,
        ws_url: str,
        tokens: Mapping[str | None, str],
        plan: Sequence[str | None],
    ) -> None:
        self._ws_url = ws_url
        self._tokens = tokens
        self._plan = list(plan)
        self._gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
        self._settled = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.deliveries = Deliveries()
        self.stats = ListenerStats(planned=len(self._plan))
        self.per_squad: Counter[str] = Counter()  # connected listeners by squad code

    async def start(self) -> float:
        """Open every connection; seconds it took. Returns when each one connected or gave up."""
        started = time.perf_counter()
        self._tasks = [
            asyncio.create_task(self._listen(squad), name=f"listener-{index}")
            for index, squad in enumerate(self._plan)
        ]
        if self._plan:
            await self._settled.wait()
        return time.perf_counter() - started

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _settle(self, squad: str | None, *, connected: bool, reason: str = "") -> None:
        if connected:
            self.stats.connected += 1
            if squad is None:
                self.stats.operators += 1
            else:
                self.per_squad[squad] += 1
        else:
            self.stats.failed += 1
            self.stats.first_failure = self.stats.first_failure or reason
        if self.stats.connected + self.stats.failed == self.stats.planned:
            self._settled.set()

    async def _listen(self, squad: str | None) -> None:
        last = _Last()
        attempts = 0
        ever_connected = False
        while True:
            after = {"after": str(last.id)} if last.id else {}
            url = f"{self._ws_url}?{urlencode({'token': self._tokens[squad], **after})}"
            try:
                async with self._gate:
                    listener = await open_listener(
                        url,
                        lambda message, at: self._received(squad, last, message, at),
                        timeout=OPEN_TIMEOUT_SECONDS,
                    )
            except (OSError, TimeoutError, HandshakeFailed) as exc:
                attempts += 1
                if attempts >= CONNECT_ATTEMPTS:
                    if not ever_connected:
                        self._settle(squad, connected=False, reason=f"{type(exc).__name__}: {exc}")
                    return
                await asyncio.sleep(0.25 * attempts)
                continue
            attempts = 0
            if ever_connected:
                self.stats.reconnects += 1
            else:
                ever_connected = True
                self._settle(squad, connected=True)
            try:
                code = await listener.closed
            finally:
                listener.close()
            self.stats.close_codes[code] += 1
            if 4400 <= code < 4500:
                self.stats.rejected += 1
                return

    def _received(self, squad: str | None, last: _Last, message: bytes, at: float) -> None:
        number = event_id(message)
        if number is not None:
            last.id = number
        if DISPATCHED not in message[:80]:
            return
        data = json.loads(message)["data"]
        self.deliveries.record(
            request_id=data["service_request_id"],
            squad_code=data.get("squad_code") or "",
            listener=squad,
            at=at,
        )


@dataclass
class _Last:
    """The id of the last event a listener received, to resume `after=` it."""

    id: int | None = None
