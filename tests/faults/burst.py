"""A burst of residents' tips while something fails, a listener per squad, and the account
of every tip afterwards: sent / answered / stored / dispatched / delivered.

Every tip carries `burst <tag> <n>` as its description, so that the database can be asked
what became of each one, answered or not, and a phone number and name of its own, so that
the server's log can be searched for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus, WebSocketException

from command_center.auth import tokens
from command_center.auth.model import Role

# The bases of the on-duty squads of 综合行政执法局 (demo/lishui/squads.csv), one per
# district; street-stall tips (CG-001) near them are theirs to handle.
BASES = (
    (119.9180, 28.4700),
    (119.8580, 28.4250),
    (120.2840, 28.1420),
    (120.0860, 28.6620),
    (119.2710, 28.5960),
    (119.4770, 28.4520),
    (119.5680, 28.1190),
    (119.0580, 27.6220),
    (119.6310, 27.9760),
    (119.1360, 28.0770),
)
SQUADS = (
    *("LD-01", "LD-02", "LD-03", "QT-01", "JY-01", "SC-01", "SY-01", "YH-01"),
    *("QY-01", "JN-01", "LQ-01", "CITY-HB-01", "CITY-ZR-01", "CITY-SJ-01"),
    *("CITY-JJ-01", "CITY-XF-01"),
)  # every squad of demo/lishui/squads.csv
STEP = 0.0008  # degrees: ~75 m, beyond the demo's 50 m duplicate radius


def spot(n: int) -> tuple[float, float]:
    """The n-th tip's position: round the bases, each spot used once per database."""
    lon, lat = BASES[n % len(BASES)]
    k = n // len(BASES)
    return round(lon + (k % 12 - 6) * STEP, 6), round(lat + (k // 12 % 12 - 6) * STEP, 6)


def phone(n: int) -> str:
    return f"1390571{n:04d}"


def surname(n: int) -> str:
    return f"司徒{n:04d}"


@dataclass
class Tip:
    n: int
    status: int | None = None  # None: no HTTP answer at all (connection lost)
    service_request_id: str | None = None
    error: str | None = None
    answered_at: float | None = None  # time.monotonic()


@dataclass
class Burst:
    """`count` Open311 tips at `rate` per second, at most `concurrency` in flight."""

    url: str
    tag: str
    count: int
    rate: float
    concurrency: int = 8
    tips: list[Tip] = field(default_factory=list)
    in_flight: int = 0

    @property
    def sent(self) -> int:
        return len(self.tips)

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=self.concurrency)
        async with httpx.AsyncClient(base_url=self.url, timeout=10, limits=limits) as client:
            gate = asyncio.Semaphore(self.concurrency)
            start = time.monotonic()
            pending = []
            for n in range(self.count):
                await asyncio.sleep(max(0.0, start + n / self.rate - time.monotonic()))
                await gate.acquire()
                tip = Tip(n)
                self.tips.append(tip)
                pending.append(asyncio.create_task(self._send_then_release(client, tip, gate)))
            await asyncio.gather(*pending)

    async def _send_then_release(
        self, client: httpx.AsyncClient, tip: Tip, gate: asyncio.Semaphore
    ) -> None:
        try:
            await self._send(client, tip)
        finally:
            gate.release()

    async def send_one(self, n: int) -> Tip:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            tip = Tip(n)
            self.tips.append(tip)
            await self._send(client, tip)
            return tip

    async def _send(self, client: httpx.AsyncClient, tip: Tip) -> None:
        lon, lat = spot(tip.n)
        form = {
            "service_code": "CG-001",
            "long": str(lon),
            "lat": str(lat),
            "description": f"burst {self.tag} {tip.n}",
            "phone": phone(tip.n),
            "first_name": "晓梅",
            "last_name": surname(tip.n),
            "email": f"resident{tip.n:04d}@example.cn",
        }
        self.in_flight += 1
        try:
            response = await client.post("/open311/v2/requests.json", data=form)
            tip.status = response.status_code
            if response.status_code == 200:
                tip.service_request_id = str(response.json()[0]["service_request_id"])
                tip.answered_at = time.monotonic()
            else:
                tip.error = response.text[:300]
        except httpx.HTTPError as exc:
            tip.error = type(exc).__name__
        finally:
            self.in_flight -= 1

    def answered(self) -> list[Tip]:
        return [t for t in self.tips if t.service_request_id is not None]

    def refused(self) -> list[Tip]:
        return [t for t in self.tips if t.service_request_id is None]

    def refusals(self) -> Counter[str]:
        """How the refused tips were answered: an HTTP status, or the client's error."""
        return Counter(str(t.status or t.error) for t in self.refused())


class SquadListener:
    """One squad's websocket. On a drop it reconnects with `after=` the last event it
    processed, as a squad's phone does; `drop_every` also drops it on purpose, abruptly
    (the TCP connection is aborted, no close frame), at random moments."""

    def __init__(self, ws_url: str, token: str, after: int, drop_every: float | None) -> None:
        self.ws_url, self.token, self.after = ws_url, token, after
        self.drop_every = drop_every
        self.events: list[dict[str, Any]] = []
        self.arrived: dict[int, float] = {}  # event id -> time.monotonic()
        self.connections = 0
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
                    self.connections += 1
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


@dataclass
class Account:
    """What the database and the listeners show of a burst."""

    sent: int
    answered: int
    refused: int
    stored: int
    dispatched: int
    delivered: int
    refused_but_stored: int
    problems: list[str]
    refusals: Counter[str] = field(default_factory=Counter)
    burst: Burst | None = None
    drops: int = 0
    after_fault_delivery_s: list[float] = field(default_factory=list)

    def line(self, label: str) -> str:
        return (
            f"{label}: sent {self.sent} / answered {self.answered} / stored {self.stored} / "
            f"dispatched {self.dispatched} / delivered {self.delivered}"
            f" ({self.refused} refused {dict(self.refusals)}, {self.refused_but_stored} of them"
            " stored in full;"
            f" after it, answer to squad in at most {self.slowest_after_fault:.2f} s"
            + (f"; {self.drops} websocket drops)" if self.drops else ")")
        )

    @property
    def slowest_after_fault(self) -> float:
        return max(self.after_fault_delivery_s, default=0.0)


def account(conn: psycopg.Connection[Any], burst: Burst, squads: Squads) -> Account:
    """Count, and list every broken promise: an answered tip not stored, a stored clue
    without its events or its accept timer, dispatched twice, not delivered to its squad's
    listener exactly once, a listener that saw an event twice or out of order, events left
    in the outbox or belonging to no clue (a half-stored refusal)."""
    problems: list[str] = []
    prefix = f"burst {burst.tag} "
    clues = {
        int(description.removeprefix(prefix)): (clue_id, sid, squad)
        for clue_id, sid, squad, description in conn.execute(
            "SELECT id, service_request_id, squad_code, description FROM clues "
            "WHERE description LIKE %s",
            (prefix + "%",),
        )
    }
    kinds: dict[int, Counter[str]] = {}
    for clue_id, kind in conn.execute(
        "SELECT clue_id, type FROM events WHERE clue_id = ANY(%s)",
        ([c[0] for c in clues.values()],),
    ):
        kinds.setdefault(clue_id, Counter())[kind] += 1
    accept_timers = Counter(
        clue_id
        for (clue_id,) in conn.execute(
            "SELECT clue_id FROM timers WHERE kind = 'accept_timeout' AND clue_id = ANY(%s)",
            ([c[0] for c in clues.values()],),
        )
    )
    row = conn.execute("SELECT count(*) FROM outbox").fetchone()
    if row and row[0]:
        problems.append(f"{row[0]} events still in the outbox")
    orphans = conn.execute(
        "SELECT count(*) FROM events WHERE clue_id IS NULL AND data->>'description' LIKE %s",
        (prefix + "%",),
    ).fetchone()
    if orphans and orphans[0]:
        problems.append(f"{orphans[0]} events of this burst belong to no clue")

    for tip in burst.answered():
        stored = clues.get(tip.n)
        if stored is None:
            problems.append(f"tip {tip.n} was answered {tip.service_request_id} but not stored")
        elif stored[1] != tip.service_request_id:
            problems.append(f"tip {tip.n} answered {tip.service_request_id}, stored {stored[1]}")
    dispatched = delivered = 0
    for n, (clue_id, sid, squad) in clues.items():
        seen = kinds.get(clue_id, Counter())
        if seen["clue.received"] != 1:
            problems.append(f"tip {n} ({sid}) has {seen['clue.received']} clue.received events")
        if seen["clue.dispatched"] != 1 or squad is None:
            problems.append(f"tip {n} ({sid}) was dispatched {seen['clue.dispatched']} times")
            continue
        dispatched += 1
        if accept_timers[clue_id] != 1:
            problems.append(f"tip {n} ({sid}) has {accept_timers[clue_id]} accept timers")
        got = squads.dispatched_to(squad)[sid]
        if got == 1:
            delivered += 1
        else:
            problems.append(f"tip {n} ({sid}) reached {squad}'s listener {got} times")
    for code, listener in squads.listeners.items():
        ids = [e["id"] for e in listener.events]
        if ids != sorted(set(ids)):
            problems.append(f"{code}'s listener saw events twice or out of order")
    refused_stored = sum(1 for t in burst.refused() if t.n in clues)
    return Account(
        sent=burst.sent,
        answered=len(burst.answered()),
        refused=len(burst.refused()),
        stored=len(clues),
        dispatched=dispatched,
        delivered=delivered,
        refused_but_stored=refused_stored,
        problems=problems,
        refusals=burst.refusals(),
    )


async def settle(
    conn: psycopg.Connection[Any], burst: Burst, squads: Squads, timeout: float
) -> Account:
    """The account once every stored clue has reached its squad, or after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = account(conn, burst, squads)
        if (result.delivered == result.stored and not result.problems) or (
            time.monotonic() > deadline
        ):
            break
        await asyncio.sleep(0.3)
    await asyncio.sleep(0.5)  # anything arriving twice arrives now
    return account(conn, burst, squads)


Fault = Callable[[Burst], Awaitable[None]]


async def survive(
    *,
    url: str,
    conninfo: str,
    signing_key: str,
    tag: str,
    fault: Fault,
    count: int = 240,
    rate: float = 30.0,
    drop_every: float | None = None,
) -> Account:
    """Listen as every squad, send a burst of `count` tips at `rate`/s and run `fault`
    during it; then ten more tips, one by one, which must all be answered (the service
    is back), and the account once everything has settled."""
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
        after = last_event_id(conn)
    ws_url = url.replace("http://", "ws://", 1) + "/ws"
    squads = Squads.of(ws_url, signing_key, after, drop_every)
    squads.start()
    burst = Burst(url, tag, count=count, rate=rate)
    try:
        sending = asyncio.create_task(burst.run())
        await fault(burst)
        await sending
        final = [await burst.send_one(n) for n in range(count, count + 10)]
        for tip in final:
            assert tip.service_request_id, f"the service is not back: tip {tip.n}: {tip.error}"
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as conn:
            result = await settle(conn, burst, squads, timeout=25)
            result.after_fault_delivery_s = _delivery_seconds(conn, squads, final)
        result.burst, result.drops = burst, squads.drops
        return result
    finally:
        await squads.stop()


def _delivery_seconds(
    conn: psycopg.Connection[Any], squads: Squads, tips: list[Tip]
) -> list[float]:
    """Seconds from each tip's answer to its dispatch reaching its squad's listener."""
    seconds = []
    for tip in tips:
        row = conn.execute(
            "SELECT squad_code FROM clues WHERE service_request_id = %s", (tip.service_request_id,)
        ).fetchone()
        assert row and tip.service_request_id and tip.answered_at is not None
        took = squads.delivery_seconds(row[0], tip.service_request_id, tip.answered_at)
        seconds.append(float("inf") if took is None else took)
    return seconds


def personal_data_in(text: str, burst: Burst) -> list[str]:
    """The residents' phones, names and e-mail addresses of the burst found in `text`."""
    found = []
    for tip in burst.tips:
        for value in (phone(tip.n), surname(tip.n), f"resident{tip.n:04d}@"):
            if value in text:
                found.append(value)
    return found
