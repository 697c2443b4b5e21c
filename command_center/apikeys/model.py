"""Partner API keys: shown once, stored only as a hash. No I/O."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

PREFIX = "cck_"


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(24)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: int
    name: str
    rate_per_second: float  # 0 means unlimited

    @property
    def unlimited(self) -> bool:
        return self.rate_per_second == 0
