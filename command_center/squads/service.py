"""Use cases of squads: importing the roster file, duty changes."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.errors import NotFound
from command_center.jurisdictions import repository as jurisdictions_repository
from command_center.squads import repository
from command_center.squads.model import parse_squads_csv
from command_center.squads.rosters import parse_holidays_csv, parse_rosters_csv
from command_center.tabular import refuse_if_errors


@dataclass(frozen=True, slots=True)
class ImportSummary:
    inserted: int
    updated: int

    def __str__(self) -> str:
        return f"{self.inserted} created, {self.updated} updated"


async def import_csv(*, session: AsyncSession, text: str) -> ImportSummary:
    """Import squads; ImportRefused (nothing stored) when a line is bad or names an unknown
    jurisdiction."""
    lines = parse_squads_csv(text)
    wanted = {code for line in lines for code in line.squad.jurisdictions}
    known = await jurisdictions_repository.existing_codes(session, wanted)
    refuse_if_errors(
        [
            f"line {line.line}: unknown jurisdiction {code}"
            for line in lines
            for code in line.squad.jurisdictions
            if code not in known
        ]
    )
    inserted = await repository.upsert(session, [line.squad for line in lines])
    return ImportSummary(inserted, len(lines) - inserted)


async def exists(*, session: AsyncSession, code: str) -> bool:
    return await repository.exists(session, code)


async def set_on_duty(*, session: AsyncSession, code: str, on_duty: bool) -> None:
    if not await repository.set_on_duty(session, code, on_duty):
        raise NotFound(f"no squad {code}")


async def import_rosters_csv(*, session: AsyncSession, text: str) -> str:
    """Replace the shifts of the squads named; ImportRefused (nothing stored) on any error."""
    shifts = parse_rosters_csv(text)
    unknown = await repository.unknown_codes(session, {s.squad_code for s in shifts})
    refuse_if_errors([f"unknown squad {code}" for code in sorted(unknown)])
    count = await repository.replace_shifts(session, shifts)
    return f"{count} shifts for {len({s.squad_code for s in shifts})} squads"


async def import_holidays_csv(*, session: AsyncSession, text: str) -> str:
    holidays = parse_holidays_csv(text)
    count = await repository.upsert_holidays(session, holidays)
    workdays = sum(h.workday for h in holidays)
    return f"{count - workdays} holidays and {workdays} adjusted working days"


async def unknown(*, session: AsyncSession, codes: set[str]) -> set[str]:
    """The codes among `codes` that name no squad."""
    return await repository.unknown_codes(session, codes)


async def department_exists(*, session: AsyncSession, department: str) -> bool:
    """Whether any squad belongs to `department`."""
    return await repository.department_exists(session, department)
