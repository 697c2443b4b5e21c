"""Where evidence bytes live: a content-addressed directory (the MediaStore protocol).

Files are written before the database row that refers to them; a failed transaction
leaves an unreferenced file behind, never a row without its file. Same bytes, same key.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Protocol

from command_center.errors import NotFound
from command_center.evidence.model import SUFFIXES, sha256_hex


class MediaStore(Protocol):
    def put(self, content: bytes, media_type: str, *, area: str) -> str:
        """Store bytes; returns the key to read them back."""
        ...

    def get(self, key: str) -> bytes:
        """The bytes under `key`; NotFound when there are none."""
        ...

    def path(self, key: str) -> Path: ...


class DirectoryStore:
    """Files under one directory: `<area>/<hash[:2]>/<hash><suffix>`, written atomically."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, content: bytes, media_type: str, *, area: str) -> str:
        digest = sha256_hex(content)
        key = f"{area}/{digest[:2]}/{digest}{SUFFIXES.get(media_type, '.bin')}"
        target = self.path(key)
        if target.exists():
            return key
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key

    def get(self, key: str) -> bytes:
        try:
            return self.path(key).read_bytes()
        except FileNotFoundError:
            raise NotFound("the evidence file is missing") from None

    def path(self, key: str) -> Path:
        resolved = (self.root / key).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise NotFound("no such evidence file")
        return resolved
