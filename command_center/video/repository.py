"""The only SQL of video: the recordings and cameras tables."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
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


async def set_store_key(session: AsyncSession, recording_id: int, store_key: str) -> None:
    await session.execute(
        text("UPDATE recordings SET store_key = :key WHERE id = :id"),
        {"id": recording_id, "key": store_key},
    )


@dataclass(frozen=True, slots=True)
class RecordingRow:
    id: int
    stream: str
    device_id: str
    file_name: str
    media_type: str
    sha256: str | None
    store_key: str | None


async def get_recording(session: AsyncSession, recording_id: int) -> RecordingRow | None:
    found = await session.execute(
        text("""
            SELECT id, stream, device_id, file_name, media_type, sha256, store_key
            FROM recordings WHERE id = :id
        """),
        {"id": recording_id},
    )
    row = found.one_or_none()
    return RecordingRow(*row) if row else None


async def recording_id(session: AsyncSession, file_name: str) -> int | None:
    found = await session.execute(
        text("SELECT id FROM recordings WHERE file_name = :file"), {"file": file_name}
    )
    return found.scalar_one_or_none()


async def delete_recording(session: AsyncSession, recording_id: int) -> None:
    await session.execute(text("DELETE FROM recordings WHERE id = :id"), {"id": recording_id})


# --- fixed cameras ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CameraRow:
    device_id: str
    rtsp_url: str
    username: str | None
    sealed_password: bytes | None = field(repr=False)
    registered_at: datetime


async def save_camera(
    session: AsyncSession,
    *,
    device_id: str,
    rtsp_url: str,
    username: str | None,
    sealed_password: bytes | None,
    registered_by: dict[str, Any],
) -> None:
    await session.execute(
        text("""
            INSERT INTO cameras (device_id, rtsp_url, username, sealed_password, registered_by)
            VALUES (:device, :url, :user, :sealed, CAST(:by AS jsonb))
            ON CONFLICT (device_id) DO UPDATE SET rtsp_url = EXCLUDED.rtsp_url,
                username = EXCLUDED.username, sealed_password = EXCLUDED.sealed_password,
                registered_at = now(), registered_by = EXCLUDED.registered_by
        """),
        {
            "device": device_id,
            "url": rtsp_url,
            "user": username,
            "sealed": sealed_password,
            "by": json.dumps(registered_by),
        },
    )


_CAMERA = "SELECT device_id, rtsp_url, username, sealed_password, registered_at FROM cameras"


async def get_camera(session: AsyncSession, device_id: str) -> CameraRow | None:
    row = (
        await session.execute(text(_CAMERA + " WHERE device_id = :d"), {"d": device_id})
    ).one_or_none()
    return _camera(row) if row else None


async def list_cameras(session: AsyncSession) -> list[CameraRow]:
    rows = await session.execute(text(_CAMERA + " ORDER BY device_id"))
    return [_camera(row) for row in rows]


async def delete_camera(session: AsyncSession, device_id: str) -> bool:
    done = await session.execute(
        text("DELETE FROM cameras WHERE device_id = :d RETURNING device_id"), {"d": device_id}
    )
    return done.one_or_none() is not None


def _camera(row: Any) -> CameraRow:
    sealed = bytes(row.sealed_password) if row.sealed_password is not None else None
    return CameraRow(row.device_id, row.rtsp_url, row.username, sealed, row.registered_at)
