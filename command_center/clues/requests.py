"""Holds (挂账) and extensions (延期): a squad asks, a supervisor decides.

A clue on hold does not run down its deadline: its timers pause and, when the hold ends,
the deadline moves by the time spent on hold. An approved extension moves the deadline
and the ladder by its hours. Everything is recorded as events.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import Principal, Role
from command_center.clues import repository, timers
from command_center.clues import service as clue_service
from command_center.clues.events import about
from command_center.clues.model import ClueRecord, State
from command_center.errors import Conflict, Forbidden, InvalidInput, NotFound
from command_center.realtime import outbox
from command_center.realtime.events import iso_utc
from command_center.supervision.ladder import Rung

KINDS = ("hold", "extension")
WORKING = frozenset({State.DISPATCHED, State.ACCEPTED, State.ON_SCENE})
DECIDERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
LADDER = (Rung.REMINDER.value, Rung.SUPERVISION.value, Rung.ESCALATION.value)


async def ask(
    *,
    session: AsyncSession,
    clue_id: int,
    kind: str,
    hours: int | None,
    note: str,
    by: Principal,
) -> int:
    """The assigned squad asks for a hold or an extension (`hours`); returns its id."""
    clue = await clue_service.lock(session=session, clue_id=clue_id)
    if by.role is not Role.SQUAD or by.squad != clue.squad_code:
        raise Forbidden("only the squad the clue is assigned to may ask")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    if kind == "extension" and not hours:
        raise InvalidInput("an extension needs `hours`")
    if not note.strip():
        raise InvalidInput("say why in `note`")
    if clue.state not in WORKING:
        raise Conflict(f"a {kind} can be asked while the clue is being handled, not {clue.state}")
    if await repository.has_pending_request(session, clue.id, kind):
        raise Conflict(f"a {kind} request for this clue is already waiting for a decision")
    request_id = await repository.add_request(
        session, clue.id, kind=kind, hours=hours, note=note.strip(), by=by.as_actor()
    )
    await _event(
        session,
        clue,
        clue.deadline,
        f"clue.{kind}_requested",
        by,
        request_id=request_id,
        hours=hours,
        note=note.strip(),
    )
    return request_id


async def decide(
    *,
    session: AsyncSession,
    clue_id: int,
    request_id: int,
    approve: bool,
    note: str | None,
    by: Principal,
    now: datetime,
) -> None:
    """A supervisor approves or refuses a pending request."""
    if by.role not in DECIDERS:
        raise Forbidden("holds and extensions are decided by a supervisor")
    clue = await clue_service.lock(session=session, clue_id=clue_id)
    if not by.sees_clue(jurisdiction_path=clue.jurisdiction_path, squad_codes=()):
        raise Forbidden(f"clue {clue_id} is outside your scope")
    row = await repository.lock_request(session, clue.id, request_id)
    if row is None:
        raise NotFound(f"no request {request_id} on clue {clue_id}")
    if row.state != "pending":
        raise Conflict(f"request {request_id} was already {row.state}")
    await repository.decide_request(
        session, request_id, approve=approve, note=note, by=by.as_actor(), now=now
    )
    deadline = clue.deadline
    if approve and row.kind == "hold":
        await repository.start_hold(session, clue.id, now)
        await timers.pause(session, clue.id, now)
    if approve and row.kind == "extension" and row.hours:
        extension = timedelta(hours=row.hours)
        deadline = await repository.extend_deadline(session, clue.id, extension)
        await timers.shift(session, clue.id, extension, LADDER)
    verdict = "approved" if approve else "refused"
    await _event(
        session,
        clue,
        deadline,
        f"clue.{row.kind}_{verdict}",
        by,
        request_id=request_id,
        hours=row.hours,
        note=note,
    )


async def resume(*, session: AsyncSession, clue_id: int, by: Principal, now: datetime) -> None:
    """End a hold: the deadline moves by the time on hold and the timers run again."""
    clue = await clue_service.lock(session=session, clue_id=clue_id)
    if by.role not in DECIDERS | {Role.OPERATOR} and not (
        by.role is Role.SQUAD and by.squad == clue.squad_code
    ):
        raise Forbidden("only the squad, an operator or a supervisor may end a hold")
    if by.role is not Role.SQUAD and not by.sees_clue(
        jurisdiction_path=clue.jurisdiction_path, squad_codes=()
    ):
        raise Forbidden(f"clue {clue_id} is outside your scope")
    ended = await repository.end_hold(session, clue.id, now)
    if ended is None:
        raise Conflict(f"clue {clue_id} is not on hold")
    held, deadline = ended
    await timers.resume(session, clue.id, now)
    await _event(
        session,
        clue,
        deadline,
        "clue.hold_ended",
        by,
        held_minutes=round(held.total_seconds() / 60),
    )


async def _event(
    session: AsyncSession,
    clue: ClueRecord,
    deadline: datetime | None,
    kind: str,
    by: Principal,
    **data: object,
) -> None:
    await outbox.record(
        session,
        [
            about(
                clue,
                kind,
                {
                    **data,
                    "squad_code": clue.squad_code,
                    "deadline": iso_utc(deadline) if deadline else None,
                    "by": by.as_actor(),
                },
            )
        ],
    )
