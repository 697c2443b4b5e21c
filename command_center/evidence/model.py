"""Evidence records: what was attached to a clue, by whom, and its content hash. No I/O."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    PHOTO = "photo"
    SNAPSHOT = "snapshot"  # a frame taken from a live video stream
    RECORDING = "recording"
    DOCUMENT = "document"


SUFFIXES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "video/webm": ".webm",
    "video/mp4": ".mp4",
    "video/x-matroska": ".mkv",  # stream recordings
    "application/pdf": ".pdf",
}


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


@dataclass(frozen=True, slots=True)
class NewEvidence:
    """Evidence about to be stored; `public_content` is the copy the public may see
    (for example a photo with its EXIF position removed), or None for none."""

    clue_id: int
    kind: Kind
    media_type: str
    content: bytes
    added_by: dict[str, Any]
    public_content: bytes | None = None
    taken_at: datetime | None = None
    device_id: str | None = None
    lon: float | None = None
    lat: float | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Evidence:
    id: int
    clue_id: int
    kind: Kind
    media_type: str
    sha256: str
    size_bytes: int
    storage_key: str
    public_key: str | None
    taken_at: datetime | None
    device_id: str | None
    lon: float | None
    lat: float | None
    note: str | None
    created_at: datetime
