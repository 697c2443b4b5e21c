"""Use cases of the matter catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.matters import repository
from command_center.matters.attributes import AttributeDefinition, parse_attributes_csv
from command_center.matters.model import Matter, parse_matters_csv
from command_center.tabular import refuse_if_errors


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


async def import_attributes_csv(*, session: AsyncSession, text: str) -> str:
    """Replace the extra questions of the matters named in the file; ImportRefused (nothing
    stored) on a bad line or an unknown matter."""
    definitions = parse_attributes_csv(text)
    known = {m.code for m in await repository.list_all(session)}
    refuse_if_errors(
        [f"unknown matter {code}" for code in sorted({d.matter_code for d in definitions} - known)]
    )
    count = await repository.replace_attributes(session, definitions)
    matters = len({d.matter_code for d in definitions})
    return f"{count} attributes for {matters} matters"


async def attributes(
    *, session: AsyncSession, matter_code: str | None = None
) -> list[AttributeDefinition]:
    return await repository.attributes(session, matter_code)
