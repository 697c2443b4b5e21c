"""Use cases of case work's reference data: importing the penalty standards, and the
standard in force for a violation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.cases import repository
from command_center.cases.law import LawRefuses, Standard
from command_center.cases.standards import Basis, parse_penalties
from command_center.tabular import refuse_if_errors


@dataclass(frozen=True, slots=True)
class PenaltiesSummary:
    added: int
    updated: int
    unchanged: int
    matters: int

    def __str__(self) -> str:
        return (
            f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged "
            f"({self.matters} matter{'' if self.matters == 1 else 's'})"
        )


async def import_penalties(*, session: AsyncSession, data: bytes, xlsx: bool) -> PenaltiesSummary:
    """Import a penalty-standards file (CSV or XLSX); ImportRefused (nothing stored) when
    any line is bad or names a matter outside the catalogue. Rows are keyed by matter,
    circumstance and effective_from: a second run of the same file changes nothing."""
    rows = parse_penalties(data, xlsx=xlsx)
    known = await repository.known_matters(session, {row.matter_code for _, row in rows})
    errors = [
        (line, f"matter_code {row.matter_code} is not in the matter catalogue")
        for line, row in rows
        if row.matter_code not in known
    ]
    limits: dict[str, Decimal | None] = {}
    limit_lines: dict[str, int] = {}
    bases: dict[tuple[str, str], Basis] = {}
    for line, row in rows:
        if row.summary_limit is not None:
            if limits.get(row.matter_code, row.summary_limit) != row.summary_limit:
                errors.append(
                    (
                        line,
                        f"summary_limit {row.summary_limit} differs from line "
                        f"{limit_lines[row.matter_code]} of the same matter",
                    )
                )
            limits[row.matter_code], limit_lines[row.matter_code] = row.summary_limit, line
        else:
            limits.setdefault(row.matter_code, None)
        key = (row.basis.law, row.basis.article)
        if key not in bases or row.basis.text:
            bases[key] = row.basis
    refuse_if_errors([f"line {line}: {message}" for line, message in sorted(errors)])
    await repository.upsert_bases(session, list(bases.values()))
    await repository.upsert_matters(session, limits)
    outcomes = [await repository.upsert_standard(session, row) for _, row in rows]
    return PenaltiesSummary(
        added=outcomes.count(True),
        updated=outcomes.count(False),
        unchanged=outcomes.count(None),
        matters=len(limits),
    )


async def standard_in_force(
    *, session: AsyncSession, matter_code: str, circumstance: str, day: date
) -> Standard:
    """The discretion standard a case of `matter_code` uses for a violation on `day`;
    LawRefuses when none was in force."""
    standard = await repository.standard_in_force(session, matter_code, circumstance, day)
    if standard is None:
        raise LawRefuses(
            f"no discretion standard of matter {matter_code} for the circumstance "
            f"{circumstance!r} was in force on {day}"
        )
    return standard
