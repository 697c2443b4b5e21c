"""SQL of the matter catalogue."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.matters.model import Matter

UPSERT = text("""
INSERT INTO matters (code, name, domain, department, legal_basis, deadline_hours,
                     penalty_standard)
VALUES (:code, :name, :domain, :department, :legal_basis, :deadline_hours, :penalty_standard)
ON CONFLICT (code) DO UPDATE SET
    name = EXCLUDED.name, domain = EXCLUDED.domain, department = EXCLUDED.department,
    legal_basis = EXCLUDED.legal_basis, deadline_hours = EXCLUDED.deadline_hours,
    penalty_standard = EXCLUDED.penalty_standard, updated_at = now()
RETURNING (xmax = 0) AS inserted
""")


async def upsert(session: AsyncSession, matters: list[Matter]) -> tuple[int, int]:
    """Insert or update matters; returns (inserted, updated)."""
    inserted = 0
    for matter in matters:
        result = await session.execute(UPSERT, asdict(matter))
        inserted += bool(result.scalar_one())
    return inserted, len(matters) - inserted


async def get(session: AsyncSession, code: str) -> Matter | None:
    row = (
        await session.execute(
            text(
                "SELECT code, name, domain, department, legal_basis, deadline_hours, "
                "penalty_standard FROM matters WHERE code = :code"
            ),
            {"code": code},
        )
    ).one_or_none()
    return Matter(**row._mapping) if row else None


async def list_all(session: AsyncSession) -> list[Matter]:
    rows = await session.execute(
        text(
            "SELECT code, name, domain, department, legal_basis, deadline_hours, "
            "penalty_standard FROM matters ORDER BY code"
        )
    )
    return [Matter(**row._mapping) for row in rows]
