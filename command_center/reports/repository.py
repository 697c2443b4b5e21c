"""The SQL of reports (the `reports` table) and of the facts documents print."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.reports.model import StoredReport

SCHEDULER_LOCK = 0x0C0C_2000


LISTED = """id, kind, label, jurisdiction, period_start, period_end, sha256,
    octet_length(pdf) AS size_bytes, generated_at, generated_by"""


async def insert(
    session: AsyncSession,
    *,
    kind: str,
    label: str,
    jurisdiction: str | None,
    start: datetime,
    end: datetime,
    html: str,
    pdf: bytes,
    sha256: str,
    by: dict[str, Any],
) -> int:
    result = await session.execute(
        text(
            "INSERT INTO reports (kind, label, jurisdiction, period_start, period_end, html, "
            "pdf, sha256, generated_by) VALUES (:kind, :label, :jurisdiction, :start, :end, "
            ":html, :pdf, :sha256, CAST(:by AS jsonb)) RETURNING id"
        ),
        {
            "kind": kind,
            "label": label,
            "jurisdiction": jurisdiction,
            "start": start,
            "end": end,
            "html": html,
            "pdf": pdf,
            "sha256": sha256,
            "by": json.dumps(by),
        },
    )
    return int(result.scalar_one())


VISIBLE = """(CAST(:jurisdiction AS text) IS NULL OR EXISTS (SELECT 1 FROM jurisdictions j
    WHERE j.code = r.jurisdiction AND j.path @> ARRAY[CAST(:jurisdiction AS text)]))"""


async def listing(
    session: AsyncSession, *, kind: str | None, jurisdiction: str | None, limit: int
) -> list[StoredReport]:
    """Newest first. A caller with a jurisdiction sees the reports of that jurisdiction
    and those below it; whole-system reports only callers without one."""
    rows = await session.execute(
        text(
            f"SELECT {LISTED} FROM reports r "
            f"WHERE (CAST(:kind AS text) IS NULL OR kind = :kind) AND {VISIBLE} "
            "ORDER BY generated_at DESC, id DESC LIMIT :limit"
        ),
        {"kind": kind, "jurisdiction": jurisdiction, "limit": limit},
    )
    return [StoredReport(**row._mapping) for row in rows]


async def get(
    session: AsyncSession, report_id: int, *, jurisdiction: str | None
) -> tuple[StoredReport, str, bytes] | None:
    """The report, if it lies inside `jurisdiction` (any, when None)."""
    row = (
        await session.execute(
            text(f"SELECT {LISTED}, html, pdf FROM reports r WHERE id = :id AND {VISIBLE}"),
            {"id": report_id, "jurisdiction": jurisdiction},
        )
    ).one_or_none()
    if row is None:
        return None
    values = dict(row._mapping)
    html, pdf = values.pop("html"), values.pop("pdf")
    return StoredReport(**values), html, bytes(pdf)


async def exists(session: AsyncSession, *, kind: str, label: str) -> bool:
    """Whether the whole-system report of this period was generated already."""
    result = await session.execute(
        text(
            "SELECT EXISTS (SELECT 1 FROM reports WHERE kind = :kind AND label = :label "
            "AND jurisdiction IS NULL)"
        ),
        {"kind": kind, "label": label},
    )
    return bool(result.scalar_one())


async def take_scheduler_lock(session: AsyncSession) -> bool:
    """One process generates scheduled reports at a time (held to the end of the
    transaction)."""
    result = await session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SCHEDULER_LOCK}
    )
    return bool(result.scalar_one())


async def jurisdiction_name(session: AsyncSession, code: str) -> str | None:
    result = await session.execute(
        text("SELECT name FROM jurisdictions WHERE code = :code"), {"code": code}
    )
    name = result.scalar_one_or_none()
    return str(name) if name is not None else None


async def dispatch_facts(session: AsyncSession, clue_id: int) -> dict[str, Any]:
    """The squad's name and when the clue was (last) dispatched, for its documents."""
    row = (
        await session.execute(
            text(
                "SELECT s.name AS squad_name, c.dispatched_at FROM clues c "
                "LEFT JOIN squads s ON s.code = c.squad_code WHERE c.id = :id"
            ),
            {"id": clue_id},
        )
    ).one()
    return dict(row._mapping)
