"""A generated history of clues whose indicators are known by construction.

Clue rows and their events are written as the services would have written them, but at
chosen times in the past: events go through the outbox with an explicit `at` and the
real relay numbers and chains them (so `audit verify` still holds). Only the event fields
the statistics read are filled in, with the names the services use.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from command_center.db.session import Database
from command_center.realtime.events import iso_utc
from command_center.realtime.relay import move_batch

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text_: str) -> datetime:
    """`2025-11-18 09:00` in Shanghai."""
    return datetime.fromisoformat(text_).replace(tzinfo=SHANGHAI)


@dataclass
class SimClue:
    """One clue's life, step by step; each step appends the event the service writes."""

    history: History
    id: int
    code: str
    matter: str
    department: str
    path: tuple[str, ...]
    lon: float
    lat: float
    created: datetime
    state: str = "received"
    squad: str | None = None
    deadline: datetime | None = None
    closed_at: datetime | None = None
    updated: datetime | None = None
    reopens: int = 0
    on_hold_since: datetime | None = None
    rating: int | None = None
    duplicate_of: int | None = None
    events: list[tuple[datetime, str, dict[str, Any]]] = field(default_factory=list)

    def _event(self, at: datetime, kind: str, **data: Any) -> SimClue:
        base = {
            "clue_id": self.id,
            "service_request_id": self.code,
            "jurisdiction_code": self.path[-1],
            "matter_code": self.matter,
            "squad_code": self.squad,
        }
        self.events.append((at, kind, {**base, **data}))
        self.updated = at
        return self

    def _move(self, at: datetime, to: str, **data: Any) -> SimClue:
        previous, self.state = self.state, to
        return self._event(at, f"clue.{to}", **{"from": previous, "to": to, **data})

    def dispatch(self, at: str, *, squad: str, deadline: str, rework: bool = False) -> SimClue:
        when, due = local(at), local(deadline)
        previous, self.state, self.squad, self.deadline = self.state, "dispatched", squad, due
        extra = {"rework": True} if rework else {"department": self.department}
        return self._event(
            when,
            "clue.dispatched",
            **{"from": previous, "to": "dispatched", "deadline": iso_utc(due), **extra},
        )

    def accept(self, at: str) -> SimClue:
        return self._move(local(at), "accepted")

    def arrive(self, at: str) -> SimClue:
        return self._move(local(at), "on_scene")

    def handle(self, at: str) -> SimClue:
        return self._move(local(at), "handled")

    def verify(self, at: str) -> SimClue:
        return self._move(local(at), "verified")

    def close(self, at: str) -> SimClue:
        self.closed_at = local(at)
        return self._move(local(at), "closed")

    def give_back(self, at: str) -> SimClue:
        return self._move(local(at), "returned", note="不属于本队职责")

    def reopen(self, at: str) -> SimClue:
        self.reopens += 1
        self.closed_at = None
        return self._move(local(at), "reopened", note="复查未整改")

    def cancel(self, at: str) -> SimClue:
        return self._move(local(at), "cancelled", note="重复报送")

    def link(self, at: str, into: SimClue) -> SimClue:
        self.state, self.duplicate_of = "duplicate", into.id
        return self._event(local(at), "clue.duplicate", to="duplicate", duplicate_of=into.id)

    def extend(self, at: str, *, deadline: str) -> SimClue:
        self.deadline = local(deadline)
        return self._event(
            local(at), "clue.extension_approved", hours=1, deadline=iso_utc(self.deadline)
        )

    def hold(self, at: str) -> SimClue:
        self.on_hold_since = local(at)
        assert self.deadline is not None
        return self._event(local(at), "clue.hold_approved", deadline=iso_utc(self.deadline))

    def rate(self, at: str, rating: int) -> SimClue:
        self.rating = rating
        return self._event(local(at), "clue.rated", rating=rating, satisfied=rating >= 4)


@dataclass
class History:
    database: Database
    clues: list[SimClue] = field(default_factory=list)

    async def clue(
        self,
        at: str,
        *,
        matter: str,
        department: str,
        path: tuple[str, ...],
        lon: float,
        lat: float,
    ) -> SimClue:
        async with self.database.sessions() as session:
            clue_id = int(
                (await session.execute(text("SELECT nextval('clues_id_seq')"))).scalar_one()
            )
        created = local(at)
        sim = SimClue(
            self,
            clue_id,
            f"{created:%Y%m%d}{clue_id:06d}",
            matter,
            department,
            path,
            lon,
            lat,
            created,
        )
        sim._event(
            created,
            "clue.received",
            **{"from": None, "to": "received", "channel": "grid", "department": department},
        )
        self.clues.append(sim)
        return sim

    async def write(self) -> None:
        """Store every clue row, then its events through the outbox and the relay."""
        async with self.database.transaction() as session:
            for c in self.clues:
                await session.execute(INSERT_CLUE, _row(c))
                payload = [
                    {
                        "at": at.astimezone(UTC).isoformat(),
                        "type": kind,
                        "clue_id": c.id,
                        "data": data,
                        "path": list(c.path),
                        "squads": [c.squad] if c.squad else [],
                    }
                    for at, kind, data in c.events
                ]
                await session.execute(INSERT_EVENTS, {"events": json.dumps(payload)})
        await _relay_everything(self.database)


async def _relay_everything(database: Database) -> None:
    """Move the outbox into the log (a live server's relay may be doing it too)."""
    for _ in range(200):
        async with database.transaction() as session:
            await move_batch(session)
        async with database.sessions() as session:
            left = (await session.execute(text("SELECT count(*) FROM outbox"))).scalar_one()
        if left == 0:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the outbox did not drain")


INSERT_CLUE = text("""
INSERT INTO clues (id, service_request_id, channel, matter_code, location, submitted_crs,
    jurisdiction_code, jurisdiction_path, department, state, squad_code, deadline,
    created_at, updated_at, closed_at, reopen_count, on_hold_since, rating, duplicate_of,
    dispatched_at)
VALUES (:id, :code, 'grid', :matter, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), 'wgs84',
    :jurisdiction, :path, :department, :state, :squad, :deadline, :created, :updated,
    :closed_at, :reopens, :on_hold_since, :rating, :duplicate_of, :created)
""")

INSERT_EVENTS = text("""
INSERT INTO outbox (at, type, clue_id, data, jurisdiction_path, squad_codes)
SELECT CAST(e.value->>'at' AS timestamptz), e.value->>'type',
       CAST(e.value->>'clue_id' AS bigint), e.value->'data',
       ARRAY(SELECT jsonb_array_elements_text(e.value->'path')),
       ARRAY(SELECT jsonb_array_elements_text(e.value->'squads'))
FROM jsonb_array_elements(CAST(:events AS jsonb)) WITH ORDINALITY AS e(value, n)
ORDER BY e.n
""")


def _row(c: SimClue) -> dict[str, Any]:
    return {
        "id": c.id,
        "code": c.code,
        "matter": c.matter,
        "lon": c.lon,
        "lat": c.lat,
        "jurisdiction": c.path[-1],
        "path": list(c.path),
        "department": c.department,
        "state": c.state,
        "squad": c.squad,
        "deadline": c.deadline,
        "created": c.created,
        "updated": c.updated or c.created,
        "closed_at": c.closed_at,
        "reopens": c.reopens,
        "on_hold_since": c.on_hold_since,
        "rating": c.rating,
        "duplicate_of": c.duplicate_of,
    }
