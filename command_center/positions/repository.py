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


async def device_of_tracker(session: AsyncSession, digest: str) -> str | None:
    """The device a member carries whose tracker id has this digest, if any."""
    found = await session.execute(
        text("""
            SELECT d.id FROM devices d JOIN members m ON m.device_id = d.id
            WHERE d.tracker_key_sha256 = :digest
        """),
        {"digest": digest},
    )
    return found.scalar_one_or_none()


async def set_tracker_digest(session: AsyncSession, device_id: str, digest: str) -> None:
    await session.execute(
        text("UPDATE devices SET tracker_key_sha256 = :digest, updated_at = now() WHERE id = :d"),
        {"digest": digest, "d": device_id},
    )


async def has_tracker(session: AsyncSession, device_id: str) -> bool:
    found = await session.execute(
        text("SELECT tracker_key_sha256 IS NOT NULL FROM devices WHERE id = :d"), {"d": device_id}
    )
    return bool(found.scalar_one_or_none())


async def device_of_member(session: AsyncSession, code: str) -> str | None:
    """The device the member carries; None for no such member or none carried."""
    found = await session.execute(
        text("SELECT device_id FROM members WHERE code = :code"), {"code": code}
    )
    return found.scalar_one_or_none()
