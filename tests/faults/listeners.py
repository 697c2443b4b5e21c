"""A websocket per squad, as the squads' phones hold them: on a drop each reconnects
with `after=` the last event it processed."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import psycopg
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

from command_center.auth import tokens
from command_center.auth.model import Role

SQUADS = (
    *("LD-01", "LD-02", "LD-03", "QT-01", "JY-01", "SC-01", "SY-01", "YH-01"),
    *("QY-01", "JN-01", "LQ-01", "CITY-HB-01", "CITY-ZR-01", "CITY-SJ-01"),
    *("CITY-JJ-01", "CITY-XF-01"),
)  # every squad of demo/lishui/squads.csv


class SquadListener:
    """One squad's websocket. On a drop it reconnects with `after=` the last event it
    processed, as a squad's phone does; `drop_every` also drops it on purpose, abruptly
    (the TCP connection is aborted, no close frame), at random moments."""

    def __init__(self, ws_url: str, token: str, after: int, drop_every: float | None) -> None:
        self.ws_url, self.token, self.after = ws_url, token, after
        self.drop_every = drop_every
        self.events: list[dict[str, Any]] = []
        self.arrived: dict[int, float] = {}  # event id -> time.monotonic()
        self.drops = 0
        self._stop = asyncio.Event()
        self._random = random.Random(token)  # when to drop: test timing

    @property
    def last_id(self) -> int:
        return int(self.events[-1]["id"]) if self.events else self.after

    async def run(self) -> None:
        while not self._stop.is_set():
            url = f"{self.ws_url}?token={self.token}&after={self.last_id}"
            try:
                async with connect(url, open_timeout=5, max_size=2**22) as ws:
                    await self._receive(ws)
            except (OSError, TimeoutError, WebSocketException, InvalidStatus):
                pass
            if not self._stop.is_set():
                await asyncio.sleep(0.2)

    async def _receive(self, ws: Any) -> None:
        drop_at = (
            time.monotonic() + self._random.uniform(0.3, 2 * self.drop_every)
            if self.drop_every
            else None
        )
        while not self._stop.is_set():
            timeout = 0.25 if drop_at is None else max(0.0, min(0.25, drop_at - time.monotonic()))
            with contextlib.suppress(TimeoutError):
                event = json.loads(await asyncio.wait_for(ws.recv(), timeout))
                self.events.append(event)
                self.arrived[event["id"]] = time.monotonic()
            if drop_at is not None and time.monotonic() >= drop_at:
                self.drops += 1
                ws.transport.abort()
                return

    def stop(self) -> None:
        self._stop.set()


@dataclass
class Squads:
    """A listener for every squad of the demo city, all started `after` one event id."""

    listeners: dict[str, SquadListener]
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @classmethod
    def of(
        cls, ws_url: str, signing_key: str, after: int, drop_every: float | None = None
    ) -> Squads:
        listeners = {
            code: SquadListener(
                ws_url, tokens.mint(key=signing_key, role=Role.SQUAD, squad=code), after, drop_every
            )
            for code in SQUADS
        }
        return cls(listeners)

    def start(self) -> None:
        self.tasks = [asyncio.create_task(listener.run()) for listener in self.listeners.values()]

    async def stop(self) -> None:
        for listener in self.listeners.values():
            listener.stop()
        await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 10)

    def dispatched_to(self, squad: str) -> Counter[str]:
        return Counter(
            e["data"]["service_request_id"]
            for e in self.listeners[squad].events
            if e["type"] == "clue.dispatched"
        )

    def delivery_seconds(self, squad: str, service_request_id: str, since: float) -> float | None:
        """How long after `since` the clue's dispatch reached the squad's listener."""
        listener = self.listeners[squad]
        for event in listener.events:
            if (
                event["type"] == "clue.dispatched"
                and event["data"]["service_request_id"] == service_request_id
            ):
                return listener.arrived[event["id"]] - since
        return None

    @property
    def drops(self) -> int:
        return sum(listener.drops for listener in self.listeners.values())


def last_event_id(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT COALESCE(max(id), 0) FROM events").fetchone()
    return int(row[0]) if row else 0
