"""The only SQL of squads."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.squads.model import Squad
from command_center.squads.rosters import Holiday, Shift

UPSERT = text("""
INSERT INTO squads (code, name, department, base, on_duty, domains)
VALUES (:code, :name, :department, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326), :on_duty,
        :domains)
ON CONFLICT (code) DO UPDATE SET
    name = EXCLUDED.name, department = EXCLUDED.department, base = EXCLUDED.base,
    on_duty = EXCLUDED.on_duty, domains = EXCLUDED.domains, updated_at = now()
RETURNING (xmax = 0) AS inserted
""")


async def upsert(session: AsyncSession, squads: list[Squad]) -> int:
    """Insert or update squads and replace what they serve; returns how many were new."""
    inserted = 0
    for squad in squads:
        result = await session.execute(
            UPSERT,
            {
                "code": squad.code,
                "name": squad.name,
                "department": squad.department,
                "lon": squad.lon,
                "lat": squad.lat,
                "on_duty": squad.on_duty,
                "domains": list(squad.domains),
            },
        )
        inserted += bool(result.scalar_one())
        await session.execute(
            text("DELETE FROM squad_jurisdictions WHERE squad_code = :code"), {"code": squad.code}
        )
        await session.execute(
            text(
                "INSERT INTO squad_jurisdictions (squad_code, jurisdiction_code) "
                "SELECT :code, unnest(CAST(:codes AS text[]))"
            ),
            {"code": squad.code, "codes": list(squad.jurisdictions)},
        )
    return inserted


async def exists(session: AsyncSession, code: str) -> bool:
    row = await session.execute(text("SELECT 1 FROM squads WHERE code = :code"), {"code": code})
    return row.first() is not None


async def set_on_duty(session: AsyncSession, code: str, on_duty: bool) -> bool:
    result = await session.execute(
        text("UPDATE squads SET on_duty = :on_duty, updated_at = now() WHERE code = :code"),
        {"code": code, "on_duty": on_duty},
    )
    return bool(getattr(result, "rowcount", 0))


async def replace_shifts(session: AsyncSession, shifts: list[Shift]) -> int:
    """Replace the rosters of every squad named in `shifts`."""
    for code in {s.squad_code for s in shifts}:
        await session.execute(text("DELETE FROM squad_shifts WHERE squad_code = :c"), {"c": code})
    for s in shifts:
        await session.execute(
            text(
                "INSERT INTO squad_shifts (squad_code, weekday, starts, ends, on_holidays) "
                "VALUES (:squad, :weekday, :starts, :ends, :on_holidays)"
            ),
            {
                "squad": s.squad_code,
                "weekday": s.weekday,
                "starts": s.starts,
                "ends": s.ends,
                "on_holidays": s.on_holidays,
            },
        )
    return len(shifts)


async def upsert_holidays(session: AsyncSession, holidays: list[Holiday]) -> int:
    for h in holidays:
        await session.execute(
            text(
                "INSERT INTO holidays (day, name, workday) VALUES (:day, :name, :workday) "
                "ON CONFLICT (day) DO UPDATE SET name = EXCLUDED.name, workday = EXCLUDED.workday"
            ),
            {"day": h.day, "name": h.name, "workday": h.workday},
        )
    return len(holidays)


async def unknown_codes(session: AsyncSession, codes: set[str]) -> set[str]:
    rows = await session.execute(
        text("SELECT code FROM squads WHERE code = ANY(:codes)"), {"codes": list(codes)}
    )
    return codes - {row.code for row in rows}


async def department_exists(session: AsyncSession, department: str) -> bool:
    found = await session.execute(
        text("SELECT 1 FROM squads WHERE department = :d LIMIT 1"), {"d": department}
    )
    return found.first() is not None
