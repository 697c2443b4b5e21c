"""The only SQL of clues."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.scope import Scope, clue_filter
from command_center.clues.model import ClueRecord, State, Submission
from command_center.clues.search import SearchTerms, like_pattern
from command_center.demo.model import simulated_request
from command_center.dispatch.model import Route, WaitReason

INSERT = text("""
INSERT INTO clues (
    id, service_request_id, channel, matter_code, description, media_url, location,
    submitted_crs, jurisdiction_code, jurisdiction_path, department, state, squad_code,
    deadline, queue_reason, queue_reason_code, reporter_subject, reporter_email,
    reporter_phone, reporter_name,
    device_id, created_at, updated_at, duplicate_of, attributes, address,
    location_approximate, source, external_id, api_key_id, intake_token,
    tracking_secret_hash, simulated)
VALUES (
    :id, :service_request_id, :channel, :matter_code, :description, :media_url,
    ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :submitted_crs, :jurisdiction_code,
    :jurisdiction_path, :department, :state, :squad_code, :deadline, :queue_reason,
    :queue_reason_code, :reporter_subject, :reporter_email, :reporter_phone, :reporter_name,
    :device_id,
    :now, :now, :duplicate_of, CAST(:attributes AS jsonb), :address,
    :location_approximate, :source, :external_id, :api_key_id, :intake_token,
    :tracking_secret_hash, :simulated)
RETURNING progress_code
""")

COLUMNS = """
    c.id, c.service_request_id, c.channel, c.matter_code, c.description, c.media_url,
    ST_X(c.location) AS lon, ST_Y(c.location) AS lat, c.jurisdiction_code,
    c.jurisdiction_path, c.department, c.state, c.squad_code, c.deadline, c.queue_reason,
    c.queue_reason_code, c.status_note, c.created_at, c.updated_at, m.name AS matter_name,
    m.legal_basis, j.name AS jurisdiction_name, c.duplicate_of, c.report_count,
    c.closed_at, c.rating, c.address, c.reporter_phone, c.public_hidden, c.public_description,
    c.progress_code, c.simulated,
    ARRAY(SELECT a.squad_code FROM assignments a
          WHERE a.clue_id = c.id AND a.state <> 'withdrawn' ORDER BY a.squad_code) AS assistants
"""
FROM = """
FROM clues c JOIN matters m ON m.code = c.matter_code
JOIN jurisdictions j ON j.code = c.jurisdiction_code
"""


def _record(row: Any) -> ClueRecord:
    values = dict(row._mapping)
    values["state"] = State(values["state"])
    values["jurisdiction_path"] = tuple(values["jurisdiction_path"])
    values["assistants"] = tuple(values.get("assistants") or ())
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
    duplicate_of: int | None = None
    intake_token: str | None = None
    queue_reason_code: WaitReason | None = None


async def insert(session: AsyncSession, clue: NewClue) -> str:
    """Store a new clue; returns the progress code the database gave it (0013)."""
    s = clue.submission
    result = await session.execute(
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
            "queue_reason_code": clue.queue_reason_code,
            "reporter_subject": clue.reporter_subject,
            "reporter_email": s.reporter_email,
            "reporter_phone": s.reporter_phone,
            "reporter_name": s.reporter_name,
            "device_id": s.device_id,
            "now": clue.now,
            "duplicate_of": clue.duplicate_of,
            "attributes": json.dumps(s.attributes, ensure_ascii=False),
            "address": s.address,
            "location_approximate": s.location_approximate,
            "source": s.source,
            "external_id": s.external_id,
            "api_key_id": s.api_key_id,
            "intake_token": clue.intake_token,
            "tracking_secret_hash": s.tracking_secret_hash,
            # sent by the demo's simulation (demo/middleware.py sets it per request)
            "simulated": simulated_request.get(),
        },
    )
    return str(result.scalar_one())


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
    duplicate_of: int | None = None
    queue_reason_code: WaitReason | None = None

    @classmethod
    def after_routing(cls, route: Route, *, waiting: State, status_note: str | None) -> Change:
        """Dispatched to the route's squad with its deadline, or left `waiting` (in the
        operator queue) with the route's reason when no squad could be chosen."""
        if route.squad_code is None:
            return cls(
                waiting,
                None,
                None,
                route.queue_reason,
                status_note,
                queue_reason_code=route.queue_reason_code,
            )
        return cls(State.DISPATCHED, route.squad_code, route.due(), None, status_note)


async def update(session: AsyncSession, clue_id: int, change: Change) -> datetime:
    """Write a transition's result; returns the transaction time it was recorded at."""
    result = await session.execute(
        text(
            "UPDATE clues SET state = :state, squad_code = :squad_code, deadline = :deadline, "
            "queue_reason = :queue_reason, queue_reason_code = :queue_reason_code, "
            "status_note = :status_note, updated_at = now(), "
            "closed_at = CASE WHEN :state = 'closed' THEN now() "
            "WHEN :state = 'reopened' OR :state = 'dispatched' THEN NULL ELSE closed_at END, "
            "duplicate_of = CASE WHEN :state = 'duplicate' THEN CAST(:duplicate_of AS bigint) END "
            "WHERE id = :id RETURNING updated_at"
        ),
        {
            "id": clue_id,
            "state": change.state.value,
            "squad_code": change.squad_code,
            "deadline": change.deadline,
            "queue_reason": change.queue_reason,
            "queue_reason_code": change.queue_reason_code,
            "status_note": change.status_note,
            "duplicate_of": change.duplicate_of,
        },
    )
    moment: datetime = result.scalar_one()
    return moment


async def relocate(
    session: AsyncSession,
    clue_id: int,
    *,
    lon: float,
    lat: float,
    submitted_crs: str,
    jurisdiction_code: str,
    jurisdiction_path: tuple[str, ...],
    department: str,
) -> None:
    """Put the clue at a confirmed WGS84 position, in the jurisdiction and department found
    there; it is no longer approximate."""
    await session.execute(
        text(
            "UPDATE clues SET location = ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), "
            "submitted_crs = :crs, location_approximate = false, "
            "jurisdiction_code = :jurisdiction, jurisdiction_path = :path, "
            "department = :department, updated_at = now() WHERE id = :id"
        ),
        {
            "id": clue_id,
            "lon": lon,
            "lat": lat,
            "crs": submitted_crs,
            "jurisdiction": jurisdiction_code,
            "path": list(jurisdiction_path),
            "department": department,
        },
    )


async def list_scoped(
    session: AsyncSession,
    *,
    states: Sequence[State],
    scope: Scope,
    limit: int,
    before_id: int | None,
    search: SearchTerms | None = None,
) -> list[ClueRecord]:
    """Clues in `states` (all if empty) and in `scope`, newest first, matching `search` if
    given (see clues/search.py)."""
    condition, params = clue_filter(scope)
    clauses = [condition]
    params["limit"] = limit
    if search:
        clauses.append(_search_clause(search, params))
    if states:
        clauses.append("c.state = ANY(:states)")
        params["states"] = [s.value for s in states]
    if before_id:
        clauses.append("c.id < :before_id")
        params["before_id"] = before_id
    where = " AND ".join(clauses)
    rows = await session.execute(
        text(f"SELECT {COLUMNS} {FROM} WHERE {where} ORDER BY c.id DESC LIMIT :limit"), params
    )
    return [_record(row) for row in rows]


# The expression of the trigram index clues_words_trgm (migration 0014): keep them equal.
WORDS = "(c.description || ' ' || coalesce(c.address, ''))"


def _search_clause(search: SearchTerms, params: dict[str, Any]) -> str:
    """code = … OR phone ending = … OR every word in the words; each arm has its index."""
    words = []
    for i, word in enumerate(search.words):
        params[f"word{i}"] = like_pattern(word)
        words.append(f"{WORDS} ILIKE :word{i}")
    arms = ["(" + " AND ".join(words) + ")"]
    if search.code:
        params["code"] = search.code
        arms.append("c.service_request_id = :code")
    if search.phone_ending:
        params["phone_ending"] = search.phone_ending
        arms.append("(c.reporter_phone IS NOT NULL AND right(c.reporter_phone, 4) = :phone_ending)")
    return "(" + " OR ".join(arms) + ")"


@dataclass(frozen=True, slots=True)
class DuplicateTarget:
    id: int
    service_request_id: str


async def lock_area(session: AsyncSession, *, matter_code: str, lon: float, lat: float) -> None:
    """Serialise intake of one matter within a ~1 km cell, so that two reports of the same
    problem arriving together cannot both miss each other."""
    await session.execute(
        text(
            "SELECT pg_advisory_xact_lock(hashtext(:matter || ':' || "
            "floor(CAST(:lon AS double precision) * 100)::text || ':' || "
            "floor(CAST(:lat AS double precision) * 100)::text))"
        ),
        {"matter": matter_code, "lon": lon, "lat": lat},
    )


async def find_duplicate_target(
    session: AsyncSession,
    *,
    matter_code: str,
    lon: float,
    lat: float,
    radius_m: int,
    window_hours: int,
) -> DuplicateTarget | None:
    """The nearest open, unlinked clue of the matter within the radius and time window."""
    row = (
        await session.execute(
            text("""
                SELECT c.id, c.service_request_id
                FROM clues c
                WHERE c.matter_code = :matter
                  AND c.state NOT IN ('closed', 'cancelled', 'duplicate')
                  AND c.created_at >= now() - make_interval(hours => :window)
                  AND ST_DWithin(geography(c.location),
                                 geography(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)),
                                 :radius)
                ORDER BY geography(c.location)
                         <-> geography(ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)), c.id
                LIMIT 1
            """),
            {
                "matter": matter_code,
                "lon": lon,
                "lat": lat,
                "radius": radius_m,
                "window": window_hours,
            },
        )
    ).one_or_none()
    return DuplicateTarget(row.id, row.service_request_id) if row else None


async def add_reports(session: AsyncSession, clue_id: int, count: int) -> int:
    """Add to a clue's report count; returns the new count."""
    result = await session.execute(
        text(
            "UPDATE clues SET report_count = report_count + :n, updated_at = now() "
            "WHERE id = :id RETURNING report_count"
        ),
        {"id": clue_id, "n": count},
    )
    return int(result.scalar_one())


async def by_progress_code(session: AsyncSession, code: str) -> str | None:
    """The case number (service_request_id) a progress code opens: the clue's random
    code, or the old case number of a resident's tip made before migration 0013."""
    found = await session.execute(
        text("""
            SELECT service_request_id FROM clues WHERE progress_code = :code
            UNION ALL
            SELECT service_request_id FROM clues WHERE legacy_progress_code = :code
            LIMIT 1
        """),
        {"code": code},
    )
    return found.scalar_one_or_none()


async def by_intake_token(session: AsyncSession, token: str) -> str | None:
    row = await session.execute(
        text("SELECT service_request_id FROM clues WHERE intake_token = :t"), {"t": token}
    )
    return row.scalar_one_or_none()


async def by_external_id(session: AsyncSession, source: str, external_id: str) -> str | None:
    row = await session.execute(
        text("SELECT service_request_id FROM clues WHERE source = :s AND external_id = :e"),
        {"s": source, "e": external_id},
    )
    return row.scalar_one_or_none()


async def move_duplicates(session: AsyncSession, *, from_id: int, to_id: int) -> int:
    """Re-link the duplicates of one clue to another; returns how many moved."""
    result = await session.execute(
        text("UPDATE clues SET duplicate_of = :to WHERE duplicate_of = :from_id"),
        {"to": to_id, "from_id": from_id},
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class Tracking:
    clue_id: int
    secret_hash: str | None
    rating: int | None
    duplicate_of: int | None
    reporter_phone: str | None


async def tracking(session: AsyncSession, service_request_id: str) -> Tracking | None:
    row = (
        await session.execute(
            text(
                "SELECT id AS clue_id, tracking_secret_hash AS secret_hash, rating, duplicate_of, "
                "reporter_phone FROM clues WHERE service_request_id = :sid FOR UPDATE"
            ),
            {"sid": service_request_id},
        )
    ).one_or_none()
    return Tracking(**row._mapping) if row else None


async def set_rating(
    session: AsyncSession, clue_id: int, *, rating: int, comment: str | None
) -> None:
    await session.execute(
        text(
            "UPDATE clues SET rating = :rating, rating_comment = :comment, rated_at = now() "
            "WHERE id = :id"
        ),
        {"id": clue_id, "rating": rating, "comment": comment},
    )


@dataclass(frozen=True, slots=True)
class ReporterContact:
    name: str | None
    phone: str | None
    email: str | None


async def reporter_contact(session: AsyncSession, clue_id: int) -> ReporterContact:
    row = (
        await session.execute(
            text(
                "SELECT reporter_name AS name, reporter_phone AS phone, reporter_email AS email "
                "FROM clues WHERE id = :id"
            ),
            {"id": clue_id},
        )
    ).one()
    return ReporterContact(**row._mapping)


STEP_COUNTERS = {
    State.RETURNED: "return_count",
    State.REOPENED: "reopen_count",
}


async def count_step(session: AsyncSession, clue_id: int, state: State) -> None:
    """Count returns and reopenings on the clue (warnings read them)."""
    column = STEP_COUNTERS.get(state)
    if column is not None:
        await session.execute(
            text(f"UPDATE clues SET {column} = {column} + 1 WHERE id = :id"), {"id": clue_id}
        )


async def count_rework(session: AsyncSession, clue_id: int) -> None:
    await session.execute(
        text("UPDATE clues SET rework_count = rework_count + 1 WHERE id = :id"), {"id": clue_id}
    )


async def add_missed(session: AsyncSession, clue_id: int, squad_code: str) -> list[str]:
    """Note that `squad_code` let the clue time out; returns every squad that has."""
    result = await session.execute(
        text(
            "UPDATE clues SET missed_by = array_append(missed_by, :squad) WHERE id = :id "
            "RETURNING missed_by"
        ),
        {"id": clue_id, "squad": squad_code},
    )
    return list(result.scalar_one())


async def needs_photo_to_verify(session: AsyncSession, clue_id: int) -> bool:
    """The matter wants a photo of the result and none was added since the dispatch."""
    row = await session.execute(
        text("""
            SELECT m.verify_needs_photo AND NOT EXISTS (
                SELECT 1 FROM evidence e
                WHERE e.clue_id = c.id AND e.kind = 'photo'
                  AND e.created_at >= COALESCE(c.dispatched_at, c.created_at))
            FROM clues c JOIN matters m ON m.code = c.matter_code WHERE c.id = :id
        """),
        {"id": clue_id},
    )
    return bool(row.scalar_one())


# --- holds and extensions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PendingRequest:
    kind: str
    hours: int | None
    state: str


async def has_pending_request(session: AsyncSession, clue_id: int, kind: str) -> bool:
    row = await session.execute(
        text("SELECT 1 FROM clue_requests WHERE clue_id = :c AND kind = :k AND state = 'pending'"),
        {"c": clue_id, "k": kind},
    )
    return row.first() is not None


async def add_request(
    session: AsyncSession,
    clue_id: int,
    *,
    kind: str,
    hours: int | None,
    note: str,
    by: dict[str, Any],
) -> int:
    row = await session.execute(
        text(
            "INSERT INTO clue_requests (clue_id, kind, hours, note, requested_by) "
            "VALUES (:c, :k, :h, :n, CAST(:by AS jsonb)) RETURNING id"
        ),
        {"c": clue_id, "k": kind, "h": hours, "n": note, "by": json.dumps(by)},
    )
    return int(row.scalar_one())


async def lock_request(
    session: AsyncSession, clue_id: int, request_id: int
) -> PendingRequest | None:
    row = (
        await session.execute(
            text(
                "SELECT kind, hours, state FROM clue_requests WHERE id = :id AND clue_id = :c "
                "FOR UPDATE"
            ),
            {"id": request_id, "c": clue_id},
        )
    ).one_or_none()
    return PendingRequest(row.kind, row.hours, row.state) if row else None


async def decide_request(
    session: AsyncSession,
    request_id: int,
    *,
    approve: bool,
    note: str | None,
    by: dict[str, Any],
    now: datetime,
) -> None:
    await session.execute(
        text(
            "UPDATE clue_requests SET state = :s, decided_by = CAST(:by AS jsonb), "
            "decision_note = :n, decided_at = :now WHERE id = :id"
        ),
        {
            "s": "approved" if approve else "refused",
            "by": json.dumps(by),
            "n": note,
            "now": now,
            "id": request_id,
        },
    )


async def start_hold(session: AsyncSession, clue_id: int, now: datetime) -> None:
    await session.execute(
        text("UPDATE clues SET on_hold_since = :now WHERE id = :id"), {"now": now, "id": clue_id}
    )


async def end_hold(
    session: AsyncSession, clue_id: int, now: datetime
) -> tuple[timedelta, datetime | None] | None:
    """End a hold, moving the deadline by its length: (length, new deadline), or None
    when the clue is not on hold."""
    row = (
        await session.execute(
            text("""
                WITH held AS (
                    SELECT CAST(:now AS timestamptz) - on_hold_since AS length
                    FROM clues WHERE id = :id AND on_hold_since IS NOT NULL
                )
                UPDATE clues c SET on_hold_since = NULL, deadline = c.deadline + held.length
                FROM held WHERE c.id = :id
                RETURNING held.length, c.deadline
            """),
            {"now": now, "id": clue_id},
        )
    ).one_or_none()
    return None if row is None else (row.length, row.deadline)


async def extend_deadline(session: AsyncSession, clue_id: int, by: timedelta) -> datetime | None:
    """Move the deadline later; returns the new one."""
    row = await session.execute(
        text("UPDATE clues SET deadline = deadline + :by WHERE id = :id RETURNING deadline"),
        {"by": by, "id": clue_id},
    )
    deadline: datetime | None = row.scalar_one()
    return deadline


async def set_department(session: AsyncSession, clue_id: int, department: str) -> None:
    """A dispute handed the clue to another department."""
    await session.execute(
        text("UPDATE clues SET department = :d WHERE id = :id"), {"d": department, "id": clue_id}
    )


# --- joint enforcement ----------------------------------------------------------------


async def assign(session: AsyncSession, clue_id: int, *, squad_code: str, department: str) -> None:
    """An assisting squad joins the clue (again, if it had been withdrawn)."""
    await session.execute(
        text(
            "INSERT INTO assignments (clue_id, squad_code, department) VALUES (:c, :s, :d) "
            "ON CONFLICT (clue_id, squad_code) DO UPDATE SET state = 'dispatched', "
            "note = NULL, updated_at = now()"
        ),
        {"c": clue_id, "s": squad_code, "d": department},
    )


async def advance_assignment(
    session: AsyncSession,
    clue_id: int,
    *,
    squad_code: str,
    before: str,
    after: str,
    note: str | None,
) -> bool:
    """Move an assistant's part from `before` to `after`; False if it was not `before`."""
    result = await session.execute(
        text(
            "UPDATE assignments SET state = :after, note = COALESCE(:note, note), "
            "updated_at = now() WHERE clue_id = :c AND squad_code = :s AND state = :before"
        ),
        {"after": after, "before": before, "note": note, "c": clue_id, "s": squad_code},
    )
    return bool(getattr(result, "rowcount", 0))


async def assignments(session: AsyncSession, clue_id: int) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT squad_code, department, state, note FROM assignments "
            "WHERE clue_id = :c AND state <> 'withdrawn' ORDER BY squad_code"
        ),
        {"c": clue_id},
    )
    return [dict(row._mapping) for row in rows]


async def withdraw_assignments(session: AsyncSession, clue_id: int) -> None:
    await session.execute(
        text("UPDATE assignments SET state = 'withdrawn', updated_at = now() WHERE clue_id = :c"),
        {"c": clue_id},
    )
