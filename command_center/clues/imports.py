"""Importing tickets of the 12345 hotline or a partner platform as clues.

Each ticket is stored in its own transaction, so one refused ticket never stops the
others and an interrupted import keeps what it stored. Re-importing is idempotent: a
ticket whose (source, ticket id) is stored already is skipped and counted as such.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import Enum, auto
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal, Role
from command_center.clues import service
from command_center.clues.model import State
from command_center.db.session import Database
from command_center.errors import DomainError
from feeds.hotline import Row, TicketRow


class Outcome(Enum):
    DISPATCHED = auto()
    QUEUED = auto()
    MERGED = auto()  # linked to an open clue of the same matter nearby
    ALREADY_IMPORTED = auto()


@dataclass(slots=True)
class ImportSummary:
    """What became of each ticket; `refused` holds one message per ticket, naming where."""

    dispatched: int = 0
    queued: int = 0
    merged: int = 0
    already_imported: int = 0
    refused: list[str] = field(default_factory=list)

    @property
    def created(self) -> int:
        return self.dispatched + self.queued

    def count(self, outcome: Outcome) -> None:
        if outcome is Outcome.DISPATCHED:
            self.dispatched += 1
        elif outcome is Outcome.QUEUED:
            self.queued += 1
        elif outcome is Outcome.MERGED:
            self.merged += 1
        else:
            self.already_imported += 1

    def __str__(self) -> str:
        return (
            f"{self.created} created ({self.dispatched} dispatched, {self.queued} queued), "
            f"{self.merged} merged as duplicates, {self.already_imported} already imported, "
            f"{len(self.refused)} refused"
        )


def importer(source: str) -> Principal:
    """Who the event log records for imported tickets.

    An operator acting for the source system, across the whole city: intake from a hotline
    is what an operator would otherwise type in by hand. Not the resident: the log must
    show which system the ticket came from (`import:12345`), and residents stay anonymous.
    """
    return Principal(role=Role.OPERATOR, subject=f"import:{source}")


async def import_tickets(
    *,
    database: Database,
    rows: Sequence[Row],
    source: str,
    zone: ZoneInfo,
    code_prefix: str = "",
    progress: Callable[[int], object] | None = None,
) -> ImportSummary:
    """Store every valid ticket as a clue, dispatched or queued (or merged as a duplicate).

    Rows the parser refused and tickets the service refuses (DomainError: unknown
    service_code, outside the area, …) are listed in `refused`. Any other error (the
    database going away) propagates: tickets stored before it stay stored, and running
    the same import again skips them. `progress(1)` is called after each row.
    """
    by = importer(source)
    summary = ImportSummary()
    for row in rows:
        if row.ticket is None:
            summary.refused.append(f"{row.where}: {row.error}")
        else:
            try:
                outcome = await _import_one(
                    database, row.ticket, source=source, by=by, zone=zone, code_prefix=code_prefix
                )
            except DomainError as exc:
                summary.refused.append(f"{row.where}: {exc.message}")
            else:
                summary.count(outcome)
        if progress is not None:
            progress(1)
    return summary


async def _import_one(
    database: Database,
    ticket: TicketRow,
    *,
    source: str,
    by: Principal,
    zone: ZoneInfo,
    code_prefix: str,
) -> Outcome:
    try:
        async with database.transaction() as session:
            if await _is_stored(session, source, ticket):
                return Outcome.ALREADY_IMPORTED
            result = await service.submit(
                session=session,
                submission=ticket.submission(source=source),
                by=by,
                zone=zone,
                code_prefix=code_prefix,
            )
    except IntegrityError:
        # Another import of the same source stored this ticket between our look-up and
        # our insert (the unique index on source and ticket id refused ours).
        async with database.transaction() as session:
            if await _is_stored(session, source, ticket):
                return Outcome.ALREADY_IMPORTED
        raise
    if result.duplicate_of is not None:
        return Outcome.MERGED
    return Outcome.DISPATCHED if result.state is State.DISPATCHED else Outcome.QUEUED


async def _is_stored(session: AsyncSession, source: str, ticket: TicketRow) -> bool:
    found = await service.find_by_external_id(
        session=session, source=source, external_id=ticket.ticket_id
    )
    return found is not None
