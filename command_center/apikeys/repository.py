"""The only SQL of API keys."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.apikeys.model import ApiKey


async def insert(session: AsyncSession, *, name: str, key_hash: str, rate: float) -> ApiKey:
    row = (
        await session.execute(
            text(
                "INSERT INTO api_keys (name, key_hash, rate_per_second) VALUES (:n, :h, :r) "
                "RETURNING id, name, rate_per_second"
            ),
            {"n": name, "h": key_hash, "r": rate},
        )
    ).one()
    return ApiKey(row.id, row.name, row.rate_per_second)


async def by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    row = (
        await session.execute(
            text(
                "SELECT id, name, rate_per_second FROM api_keys "
                "WHERE key_hash = :h AND revoked_at IS NULL"
            ),
            {"h": key_hash},
        )
    ).one_or_none()
    return ApiKey(row.id, row.name, row.rate_per_second) if row else None


async def revoke(session: AsyncSession, key_id: int) -> bool:
    result = await session.execute(
        text("UPDATE api_keys SET revoked_at = now() WHERE id = :id AND revoked_at IS NULL"),
        {"id": key_id},
    )
    return bool(getattr(result, "rowcount", 0))


async def list_all(session: AsyncSession) -> list[tuple[ApiKey, bool]]:
    rows = await session.execute(
        text(
            "SELECT id, name, rate_per_second, revoked_at IS NOT NULL AS revoked FROM api_keys "
            "ORDER BY id"
        )
    )
    return [(ApiKey(r.id, r.name, r.rate_per_second), r.revoked) for r in rows]
