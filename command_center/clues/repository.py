"""The only SQL of clues."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.clues.model import ClueRecord, State, Submission

INSERT = text("""
INSERT INTO clues (
    id, service_request_id, channel, matter_code, description, media_url, location,
    submitted_crs, jurisdiction_code, jurisdiction_path, department, state, squad_code,
    deadline, queue_reason, reporter_subject, reporter_email, reporter_phone, reporter_name,
    device_id, created_at, updated_at)
VALUES (
    :id, :service_request_id, :channel, :matter_code, :description, :media_url,
    ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :submitted_crs, :jurisdiction_code,
    :jurisdiction_path, :department, :state, :squad_code, :deadline, :queue_reason,
    :reporter_subject, :reporter_email, :reporter_phone, :reporter_name, :device_id,
    :now, :now)
""")

COLUMNS = """
    c.id, c.service_request_id, c.channel, c.matter_code, c.description, c.media_url,
    ST_X(c.location) AS lon, ST_Y(c.location) AS lat, c.jurisdiction_code,
    c.jurisdiction_path, c.department, c.state, c.squad_code, c.deadline, c.queue_reason,
    c.status_note, c.created_at, c.updated_at, m.name AS matter_name,
    m.legal_basis, j.name AS jurisdiction_name
"""
FROM = """
FROM clues c JOIN matters m ON m.code = c.matter_code
JOIN jurisdictions j ON j.code = c.jurisdiction_code
"""


def _record(row: Any) -> ClueRecord:
    values = dict(row._mapping)
    values["state"] = State(values["state"])
    values["jurisdiction_path"] = tuple(values["jurisdiction_path"])
    return ClueRecord(**values)


async def next_id(session: AsyncSession) -> int:
    return int((await session.execute(text("SELECT nextval('clues_id_seq')"))).scalar_one())


@dataclass(frozen=True, slots=True)
class NewClue:
    id: int
    service_request_id: str
    submission: Submission
    jurisdiction_code: str
    jurisdiction_path: tuple[str, ...]
    department: str
    state: State
    squad_code: str | None
    deadline: datetime | None
    queue_reason: str | None
    reporter_subject: str | None
    now: datetime


async def insert(session: AsyncSession, clue: NewClue) -> None:
    s = clue.submission
    await session.execute(
        INSERT,
        {
            "id": clue.id,
            "service_request_id": clue.service_request_id,
            "channel": s.channel.value,
            "matter_code": s.matter_code,
            "description": s.description,
            "media_url": s.media_url,
            "lon": s.lon,
            "lat": s.lat,
            "submitted_crs": s.submitted_crs,
            "jurisdiction_code": clue.jurisdiction_code,
            "jurisdiction_path": list(clue.jurisdiction_path),
            "department": clue.department,
            "state": clue.state.value,
            "squad_code": clue.squad_code,
            "deadline": clue.deadline,
            "queue_reason": clue.queue_reason,
            "reporter_subject": clue.reporter_subject,
            "reporter_email": s.reporter_email,
            "reporter_phone": s.reporter_phone,
            "reporter_name": s.reporter_name,
            "device_id": s.device_id,
            "now": clue.now,
        },
    )


async def get(
    session: AsyncSession, clue_id: int, *, for_update: bool = False
) -> ClueRecord | None:
    lock = " FOR UPDATE OF c" if for_update else ""
    row = (
        await session.execute(
            text(f"SELECT {COLUMNS} {FROM} WHERE c.id = :id{lock}"), {"id": clue_id}
        )
    ).one_or_none()
    return _record(row) if row else None


async def get_by_public_id(session: AsyncSession, service_request_id: str) -> ClueRecord | None:
    row = (
        await session.execute(
            text(f"SELECT {COLUMNS} {FROM} WHERE c.service_request_id = :sid"),
            {"sid": service_request_id},
        )
    ).one_or_none()
    return _record(row) if row else None


@dataclass(frozen=True, slots=True)
class Change:
    state: State
    squad_code: str | None
    deadline: datetime | None
    queue_reason: str | None
    status_note: str | None


async def update(session: AsyncSession, clue_id: int, change: Change) -> datetime:
    """Write a transition's result; returns the transaction time it was recorded at."""
    result = await session.execute(
        text(
            "UPDATE clues SET state = :state, squad_code = :squad_code, deadline = :deadline, "
            "queue_reason = :queue_reason, status_note = :status_note, updated_at = now() "
            "WHERE id = :id RETURNING updated_at"
        ),
        {
            "id": clue_id,
            "state": change.state.value,
            "squad_code": change.squad_code,
            "deadline": change.deadline,
            "queue_reason": change.queue_reason,
            "status_note": change.status_note,
        },
    )
    moment: datetime = result.scalar_one()
    return moment


async def list_scoped(
    session: AsyncSession,
    *,
    states: Sequence[State],
    jurisdiction: str | None,
    squad: str | None,
    limit: int,
    before_id: int | None,
) -> list[ClueRecord]:
    """Clues in `states` (all if empty), newest first, inside a jurisdiction or of a squad."""
    clauses = ["TRUE"]
    params: dict[str, Any] = {"limit": limit}
    if states:
        clauses.append("c.state = ANY(:states)")
        params["states"] = [s.value for s in states]
    if jurisdiction:
        clauses.append("c.jurisdiction_path @> ARRAY[CAST(:jurisdiction AS text)]")
        params["jurisdiction"] = jurisdiction
    if squad:
        clauses.append("c.squad_code = :squad")
        params["squad"] = squad
    if before_id:
        clauses.append("c.id < :before_id")
        params["before_id"] = before_id
    where = " AND ".join(clauses)
    rows = await session.execute(
        text(f"SELECT {COLUMNS} {FROM} WHERE {where} ORDER BY c.id DESC LIMIT :limit"), params
    )
    return [_record(row) for row in rows]
