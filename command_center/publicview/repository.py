"""The only SQL of moderation: what the public sees of a clue."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def moderate(
    session: AsyncSession, clue_id: int, *, hidden: bool, public_description: str | None
) -> None:
    await session.execute(
        text("""
            UPDATE clues SET public_hidden = :hidden, public_description = :text,
                updated_at = now()
            WHERE id = :id
        """),
        {"id": clue_id, "hidden": hidden, "text": public_description},
    )
