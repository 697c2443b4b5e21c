"""The account of a burst: sent / answered / stored / dispatched / delivered, and every
promise broken on the way, from the database's rows and what the listeners got."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from tests.faults.burst import Burst, Tip
from tests.faults.listeners import Squads, last_event_id


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
