"""Use cases of the matter catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.matters import repository
from command_center.matters.model import Matter, parse_matters_csv


@dataclass(frozen=True, slots=True)
class ImportSummary:
    inserted: int
    updated: int

    def __str__(self) -> str:
        return f"{self.inserted} created, {self.updated} updated"


async def import_csv(*, session: AsyncSession, text: str) -> ImportSummary:
    """Import a catalogue file; ImportRefused (nothing stored) when any line is bad."""
    matters = parse_matters_csv(text)
    inserted, updated = await repository.upsert(session, matters)
    return ImportSummary(inserted, updated)


async def get(*, session: AsyncSession, code: str) -> Matter | None:
    return await repository.get(session, code)


async def list_all(*, session: AsyncSession) -> list[Matter]:
    return await repository.list_all(session)
