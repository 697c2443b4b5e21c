"""The only SQL of squad members."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.positions.model import Member

UPSERT = text("""
INSERT INTO members (code, name, squad_code, device_id, phone)
VALUES (:code, :name, :squad, :device, :phone)
ON CONFLICT (code) DO UPDATE SET
    name = EXCLUDED.name, squad_code = EXCLUDED.squad_code, device_id = EXCLUDED.device_id,
    phone = EXCLUDED.phone, updated_at = now()
""")


async def upsert(session: AsyncSession, member: Member) -> None:
    await session.execute(
        UPSERT,
        {
            "code": member.code,
            "name": member.name,
            "squad": member.squad_code,
            "device": member.device_id,
            "phone": member.phone,
        },
    )


async def carries_device(session: AsyncSession, device_id: str) -> bool:
    """Whether some member carries the device."""
    found = await session.execute(
        text("SELECT 1 FROM members WHERE device_id = :d"), {"d": device_id}
    )
    return found.first() is not None
