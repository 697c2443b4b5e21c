"""The only SQL of video: the recordings table."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def insert_recording(
    session: AsyncSession,
    *,
    stream: str,
    device_id: str,
    clue_id: int | None,
    file_name: str,
    media_type: str,
    started_at: datetime,
    started_by: dict[str, Any],
) -> int:
    row = await session.execute(
        text("""
            INSERT INTO recordings (stream, device_id, clue_id, file_name, media_type,
                started_at, started_by)
            VALUES (:stream, :device, :clue, :file, :media_type, :started, CAST(:by AS jsonb))
            RETURNING id
        """),
        {
            "stream": stream,
            "device": device_id,
            "clue": clue_id,
            "file": file_name,
            "media_type": media_type,
            "started": started_at,
            "by": json.dumps(started_by),
        },
    )
    return int(row.scalar_one())


async def set_file_name(session: AsyncSession, recording_id: int, file_name: str) -> None:
    await session.execute(
        text("UPDATE recordings SET file_name = :file WHERE id = :id"),
        {"id": recording_id, "file": file_name},
    )


async def finish_recording(
    session: AsyncSession, recording_id: int, *, sha256: str, size_bytes: int, ended_at: datetime
) -> None:
    await session.execute(
        text("""
            UPDATE recordings SET sha256 = :sha256, size_bytes = :size, ended_at = :ended
            WHERE id = :id
        """),
        {"id": recording_id, "sha256": sha256, "size": size_bytes, "ended": ended_at},
    )


async def delete_recording(session: AsyncSession, recording_id: int) -> None:
    await session.execute(text("DELETE FROM recordings WHERE id = :id"), {"id": recording_id})
