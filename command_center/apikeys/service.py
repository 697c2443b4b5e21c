"""Use cases of API keys."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.apikeys import repository
from command_center.apikeys.model import ApiKey, key_hash, new_key
from command_center.errors import Forbidden, InvalidInput, NotFound


async def create(*, session: AsyncSession, name: str, rate: float) -> tuple[ApiKey, str]:
    """A new key for a partner; the plain key is returned once and never stored."""
    if not name.strip():
        raise InvalidInput("the key needs a name (the partner system it is for)")
    if rate < 0:
        raise InvalidInput("--rate must be 0 (unlimited) or more")
    plain = new_key()
    return await repository.insert(
        session, name=name.strip(), key_hash=key_hash(plain), rate=rate
    ), plain


async def authenticate(*, session: AsyncSession, key: str) -> ApiKey:
    """The partner behind `key`; Forbidden (Open311: 403) for an unknown or revoked key."""
    found = await repository.by_hash(session, key_hash(key.strip()))
    if found is None:
        raise Forbidden("invalid api_key")
    return found


async def revoke(*, session: AsyncSession, key_id: int) -> None:
    if not await repository.revoke(session, key_id):
        raise NotFound(f"no active API key {key_id}")


async def list_all(*, session: AsyncSession) -> list[tuple[ApiKey, bool]]:
    return await repository.list_all(session)
