"""SQL of case work's reference data: legal bases, penalty matters, discretion standards."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.cases.law import Kind, Standard
from command_center.cases.standards import Basis, StandardRow

UPSERT_BASIS = text("""
INSERT INTO legal_bases (law, article, text) VALUES (:law, :article, :text)
ON CONFLICT (law, article) DO UPDATE SET text = EXCLUDED.text
    WHERE EXCLUDED.text <> '' AND legal_bases.text IS DISTINCT FROM EXCLUDED.text
""")

UPSERT_MATTER = text("""
INSERT INTO penalty_matters (matter_code, summary_limit) VALUES (:matter_code, :summary_limit)
ON CONFLICT (matter_code) DO UPDATE SET summary_limit = EXCLUDED.summary_limit, updated_at = now()
    WHERE penalty_matters.summary_limit IS DISTINCT FROM EXCLUDED.summary_limit
""")

# No row comes back when the stored version already says the same: "unchanged".
UPSERT_STANDARD = text("""
INSERT INTO discretion_standards AS s (matter_code, circumstance, effective_from, basis_id,
    fine_min, fine_max, kinds, review_required, collective, first_offence_exempt, description)
VALUES (:matter_code, :circumstance, :effective_from,
    (SELECT id FROM legal_bases WHERE law = :law AND article = :article),
    :fine_min, :fine_max, :kinds, :review_required, :collective, :first_offence_exempt,
    :description)
ON CONFLICT (matter_code, circumstance, effective_from) DO UPDATE SET
    basis_id = EXCLUDED.basis_id, fine_min = EXCLUDED.fine_min, fine_max = EXCLUDED.fine_max,
    kinds = EXCLUDED.kinds, review_required = EXCLUDED.review_required,
    collective = EXCLUDED.collective, first_offence_exempt = EXCLUDED.first_offence_exempt,
    description = EXCLUDED.description, updated_at = now()
WHERE (s.basis_id, s.fine_min, s.fine_max, s.kinds, s.review_required, s.collective,
       s.first_offence_exempt, s.description)
    IS DISTINCT FROM (EXCLUDED.basis_id, EXCLUDED.fine_min, EXCLUDED.fine_max, EXCLUDED.kinds,
       EXCLUDED.review_required, EXCLUDED.collective, EXCLUDED.first_offence_exempt,
       EXCLUDED.description)
RETURNING (xmax = 0) AS inserted
""")

IN_FORCE = text("""
SELECT s.circumstance, s.effective_from, s.fine_min, s.fine_max, s.kinds, s.review_required,
       s.collective, s.first_offence_exempt, b.law || b.article AS basis
FROM discretion_standards s JOIN legal_bases b ON b.id = s.basis_id
WHERE s.matter_code = :matter_code AND s.circumstance = :circumstance
  AND s.effective_from <= :day
ORDER BY s.effective_from DESC
LIMIT 1
""")


async def known_matters(session: AsyncSession, codes: set[str]) -> set[str]:
    rows = await session.execute(
        text("SELECT code FROM matters WHERE code = ANY(:codes)"), {"codes": sorted(codes)}
    )
    return set(rows.scalars())


async def upsert_bases(session: AsyncSession, bases: list[Basis]) -> None:
    for basis in bases:
        await session.execute(
            UPSERT_BASIS, {"law": basis.law, "article": basis.article, "text": basis.text}
        )


async def upsert_matters(session: AsyncSession, limits: dict[str, Decimal | None]) -> None:
    for code, limit in sorted(limits.items()):
        await session.execute(UPSERT_MATTER, {"matter_code": code, "summary_limit": limit})


async def upsert_standard(session: AsyncSession, row: StandardRow) -> bool | None:
    """True: added; False: updated; None: unchanged."""
    values: dict[str, Any] = {
        "matter_code": row.matter_code,
        "circumstance": row.circumstance,
        "effective_from": row.effective_from,
        "law": row.basis.law,
        "article": row.basis.article,
        "fine_min": row.fine_min,
        "fine_max": row.fine_max,
        "kinds": [kind.value for kind in row.kinds],
        "review_required": row.review_required,
        "collective": row.collective,
        "first_offence_exempt": row.first_offence_exempt,
        "description": row.description,
    }
    inserted = (await session.execute(UPSERT_STANDARD, values)).scalar_one_or_none()
    return None if inserted is None else bool(inserted)


async def standard_in_force(
    session: AsyncSession, matter_code: str, circumstance: str, day: date
) -> Standard | None:
    """The version of (matter, circumstance) in force on `day`: the latest effective_from
    on or before it; None when there is none."""
    row = (
        await session.execute(
            IN_FORCE, {"matter_code": matter_code, "circumstance": circumstance, "day": day}
        )
    ).one_or_none()
    if row is None:
        return None
    return Standard(
        circumstance=row.circumstance,
        effective_from=row.effective_from,
        fine_min=row.fine_min,
        fine_max=row.fine_max,
        kinds=frozenset(Kind(k) for k in row.kinds),
        review_required=row.review_required,
        collective=row.collective,
        first_offence_exempt=row.first_offence_exempt,
        basis=row.basis,
    )
