"""The only SQL of the demo mark."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.demo.model import DemoMark


async def get(session: AsyncSession) -> DemoMark | None:
    row = (await session.execute(text("SELECT city, marked_at FROM demo_marks"))).first()
    return None if row is None else DemoMark(city=row.city, marked_at=row.marked_at)


async def put(session: AsyncSession, city: str) -> DemoMark:
    row = (
        await session.execute(
            text(
                "INSERT INTO demo_marks (city) VALUES (:city) ON CONFLICT (id) "
                "DO UPDATE SET city = EXCLUDED.city RETURNING city, marked_at"
            ),
            {"city": city},
        )
    ).one()
    return DemoMark(city=row.city, marked_at=row.marked_at)


async def remove(session: AsyncSession) -> bool:
    result = await session.execute(text("DELETE FROM demo_marks"))
    return bool(getattr(result, "rowcount", 0))
