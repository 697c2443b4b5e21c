"""Use cases of clues: intake with dispatch, life-cycle actions, scoped reads.

Every change and the events describing it are written in the caller's transaction, so
they are stored together or not at all.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.auth.model import SYSTEM, Principal, Role
from command_center.auth.scope import scope_of
from command_center.clues import duplicates, joint, relocation, repository, steps, timing
from command_center.clues import events as clue_events
from command_center.clues import search as clue_search
from command_center.clues.model import (
    NOTE_REQUIRED,
    SQUAD_ACTIONS,
    Action,
    ClueRecord,
    Position,
    State,
    Submission,
    check_role_may,
    next_state,
)
from command_center.clues.repository import Change, DuplicateTarget, NewClue
from command_center.dispatch import service as dispatch_service
from command_center.dispatch.model import Route, WaitReason
from command_center.errors import Forbidden, InvalidInput, NotFound, OutsideArea, UnknownMatter
from command_center.realtime import outbox
from command_center.realtime.events import PendingEvent, iso_utc
from command_center.squads import service as squads_service


@dataclass(frozen=True, slots=True)
class IntakeResult:
    clue_id: int
    service_request_id: str
    state: State
    squad_code: str | None
    department: str
    intake_token: str
    duplicate_of: str | None = None  # the public code of the clue this one was linked to
    progress_code: str = ""  # the random code that opens the clue's progress page (/track)


def public_code(clue_id: int, now: datetime, zone: ZoneInfo, prefix: str = "") -> str:
    """The public code of a clue: prefix, local date, zero-padded id (e.g. 20261123000042)."""
    return f"{prefix}{now.astimezone(zone):%Y%m%d}{clue_id:06d}"


async def submit(
    *,
    session: AsyncSession,
    submission: Submission,
    by: Principal,
    zone: ZoneInfo,
    code_prefix: str = "",
) -> IntakeResult:
    """Register a clue and dispatch it to the nearest eligible squad, or queue it.

    Raises OutsideArea or UnknownMatter before anything is written.
    """
    route = await dispatch_service.route(
        session=session,
        lon=submission.lon,
        lat=submission.lat,
        matter_code=submission.matter_code,
    )
    if route.matter_code is None:
        raise UnknownMatter(f"unknown service_code {submission.matter_code!r}")
    if route.jurisdiction_code is None or route.department is None:
        raise OutsideArea(
            f"the location lat {submission.lat:.6f}, long {submission.lon:.6f} (WGS84) "
            "is outside every jurisdiction we serve"
        )
    jurisdiction_code, department = route.jurisdiction_code, route.department
    queue_reason, reason_code = route.queue_reason, route.queue_reason_code
    if submission.location_approximate:
        route = replace(route, squad_code=None)
        reason_code = WaitReason.ADDRESS_ONLY
        queue_reason = (
            f"only an address was given ({submission.address}); confirm the location, then dispatch"
        )
    target = await _duplicate_target(session, submission, route)
    clue_id = await repository.next_id(session)
    if target is not None:
        state, route = State.DUPLICATE, replace(route, squad_code=None)
    else:
        state = State.DISPATCHED if route.squad_code else State.RECEIVED
    clue = NewClue(
        id=clue_id,
        service_request_id=public_code(clue_id, route.now, zone, code_prefix),
        submission=submission,
        jurisdiction_code=jurisdiction_code,
        jurisdiction_path=route.jurisdiction_path,
        department=department,
        state=state,
        squad_code=route.squad_code,
        deadline=clue_events.deadline(route),
        queue_reason=None if target else queue_reason,
        queue_reason_code=None if target else reason_code,
        reporter_subject=None if by.role is Role.RESIDENT else by.subject,
        now=route.now,
        duplicate_of=target.id if target else None,
        intake_token=secrets.token_urlsafe(12),
    )
    progress_code = await repository.insert(session, clue)
    ident = clue_events.identity(clue.id, clue.service_request_id, route)
    received = clue_events.received(
        ident,
        route,
        by=by,
        channel=submission.channel.value,
        lon=submission.lon,
        lat=submission.lat,
        description=submission.description,
    )
    if target is not None:
        reports = await repository.add_reports(session, target.id, 1)
        follow = clue_events.linked(
            ident, route.jurisdiction_path, by=by, into=target, reports=reports, note=None
        )
    else:
        where_and_what = {
            "location": clue_events.location(submission.lon, submission.lat),
            "description": submission.description,
        }
        follow = clue_events.dispatched_or_queued(
            ident,
            route,
            previous=State.RECEIVED,
            by=by,
            extra=where_and_what,
            reason=queue_reason,
            reason_code=reason_code,
        )
    assisting = []
    if state is State.DISPATCHED and route.joint_departments:
        assisting = await joint.dispatch_assistants(
            session,
            clue_id=clue.id,
            identity=ident,
            lead=route,
            lon=submission.lon,
            lat=submission.lat,
            by=by,
            extra={
                "location": clue_events.location(submission.lon, submission.lat),
                "description": submission.description,
            },
        )
    await outbox.record(session, [received, follow, *assisting])
    if state is State.DISPATCHED:
        await timing.on_dispatched(session, clue.id, route)
    assert clue.intake_token is not None
    return IntakeResult(
        clue.id,
        clue.service_request_id,
        state,
        route.squad_code,
        department,
        intake_token=clue.intake_token,
        duplicate_of=target.service_request_id if target else None,
        progress_code=progress_code,
    )


async def _duplicate_target(
    session: AsyncSession, submission: Submission, route: Route
) -> DuplicateTarget | None:
    """The open clue this report repeats, if the matter links duplicates at all (never for
    an approximate location: two addresses in one district are not one problem)."""
    if submission.location_approximate:
        return None
    if route.duplicate_radius_m <= 0 or route.duplicate_window_hours <= 0:
        return None
    await repository.lock_area(
        session, matter_code=submission.matter_code, lon=submission.lon, lat=submission.lat
    )
    return await repository.find_duplicate_target(
        session,
        matter_code=submission.matter_code,
        lon=submission.lon,
        lat=submission.lat,
        radius_m=route.duplicate_radius_m,
        window_hours=route.duplicate_window_hours,
    )


@dataclass(frozen=True, slots=True)
class Asked:
    """One life-cycle action as asked: by whom, with what."""

    action: Action
    by: Principal
    note: str | None
    target: State
    squad_code: str | None = None
    into: int | None = None
    position: Position | None = None


async def act(
    *,
    session: AsyncSession,
    clue_id: int,
    action: Action,
    by: Principal,
    note: str | None = None,
    squad_code: str | None = None,
    into: int | None = None,
    position: Position | None = None,
) -> ClueRecord:
    """Apply one life-cycle action; the clue row is locked for the transaction.

    Raises NotFound, Forbidden (role or scope), InvalidInput (missing reason or squad)
    and IllegalTransition (409, naming the current state).
    """
    clue = await repository.get(session, clue_id, for_update=True)
    if clue is None:
        raise NotFound(f"no clue {clue_id}")
    _check_scope(by, clue)
    check_role_may(by.role, action)
    if action in SQUAD_ACTIONS and by.role is Role.SQUAD and by.squad != clue.squad_code:
        if by.squad in clue.assistants:
            await joint.assist(session, clue, action=action, by=by, note=note)
            return await _reloaded(session, clue.id)
        raise Forbidden(f"clue {clue_id} is not assigned to squad {by.squad}")
    note = (note or "").strip() or None
    if action in NOTE_REQUIRED and note is None:
        raise InvalidInput(f"{action.value} needs a reason in `note`")
    asked = Asked(
        action,
        by,
        note,
        next_state(clue.state, action),
        squad_code=squad_code,
        into=into,
        position=position,
    )
    await HANDLERS.get(action, _transition)(session, clue, asked)
    return await _reloaded(session, clue.id)


async def _transition(session: AsyncSession, clue: ClueRecord, asked: Asked) -> None:
    """The plain step along the transition table (reopening routes the clue again)."""
    target, by, note = asked.target, asked.by, asked.note
    if asked.action is Action.VERIFY and await repository.needs_photo_to_verify(session, clue.id):
        raise InvalidInput(
            f"matter {clue.matter_code} is verified with a photo of the result: add one "
            "(POST /api/v1/clues/{id}/evidence) before verifying"
        )
    events = [clue_events.transition(clue, target, by=by, note=note)]
    if target is State.HANDLED and clue.assistants:
        events[0].data["assistant_reports"] = await joint.reports(session, clue.id)
    if target in (State.CANCELLED, State.DUPLICATE):
        await joint.withdraw(session, clue.id)
    change = Change(
        state=target,
        squad_code=clue.squad_code,
        deadline=clue.deadline,
        queue_reason=_queue_reason(target, clue, note),
        queue_reason_code=WaitReason.RETURNED if target is State.RETURNED else None,
        status_note=note
        if target in {State.HANDLED, State.CLOSED, State.CANCELLED}
        else clue.status_note,
    )
    route = None
    if target is State.REOPENED:
        change, follow, route = await _redispatch(session, clue, by=by, note=note)
        events.append(follow)
    await steps.apply(session, clue.id, change, events, route=route)
    await repository.count_step(session, clue.id, target)


async def _link(session: AsyncSession, clue: ClueRecord, asked: Asked) -> None:
    if asked.into is None:
        raise InvalidInput("link needs `into`, the id of the clue this one repeats")
    await duplicates.link(session, clue, into=asked.into, by=asked.by, note=asked.note)


async def _unlink(session: AsyncSession, clue: ClueRecord, asked: Asked) -> None:
    await duplicates.unlink(session, clue, by=asked.by, note=asked.note)


async def _relocate(session: AsyncSession, clue: ClueRecord, asked: Asked) -> None:
    if asked.position is None:
        raise InvalidInput("relocate needs `lon` and `lat` (and `crs`: wgs84 or gcj02)")
    await relocation.relocate(
        session, clue, to=asked.position, waiting=asked.target, by=asked.by, note=asked.note
    )


async def get_scoped(*, session: AsyncSession, clue_id: int, by: Principal) -> ClueRecord:
    """A clue the principal may see; NotFound or Forbidden otherwise."""
    clue = await repository.get(session, clue_id)
    if clue is None:
        raise NotFound(f"no clue {clue_id}")
    _check_scope(by, clue)
    return clue


async def get_public(*, session: AsyncSession, service_request_id: str) -> ClueRecord:
    clue = await repository.get_by_public_id(session, service_request_id)
    if clue is None:
        raise NotFound(f"no service request {service_request_id}")
    return clue


async def list_scoped(
    *,
    session: AsyncSession,
    by: Principal,
    states: list[State],
    limit: int,
    before_id: int | None = None,
    query: str | None = None,
) -> list[ClueRecord]:
    """Clues in the principal's scope, newest first; `query` searches them (code, phone
    ending, words; every state). A bad query is a InvalidInput naming the problem."""
    scope = scope_of(by, refusal=f"the {by.role.value} role may not list clues")
    search = None
    if query is not None:
        try:
            search = clue_search.parse(query)
        except ValueError as error:
            raise InvalidInput(str(error)) from error
    return await repository.list_scoped(
        session,
        states=states,
        scope=scope,
        limit=limit,
        before_id=before_id,
        search=search,
    )


# --- helpers -------------------------------------------------------------------------


def _check_scope(by: Principal, clue: ClueRecord) -> None:
    squads = clue_events.squads(clue.squad_code) + clue.assistants
    if not by.sees_clue(jurisdiction_path=clue.jurisdiction_path, squad_codes=squads):
        raise Forbidden(f"clue {clue.id} is outside your scope")


def _queue_reason(target: State, clue: ClueRecord, note: str | None) -> str | None:
    if target is State.RETURNED:
        return f"returned by squad {clue.squad_code}: {note}"
    return None


async def _route_again(session: AsyncSession, clue: ClueRecord, prefer: str | None) -> Route:
    return await dispatch_service.route(
        session=session,
        lon=clue.lon,
        lat=clue.lat,
        matter_code=clue.matter_code,
        prefer_squad=prefer,
    )


async def _redispatch(
    session: AsyncSession, clue: ClueRecord, *, by: Principal, note: str | None
) -> tuple[Change, PendingEvent, Route]:
    """After a reopen: back to the squad that handled it if still eligible, else the nearest."""
    route = await _route_again(session, clue, prefer=clue.squad_code)
    follow = clue_events.dispatched_or_queued(
        clue_events.identity(clue.id, clue.service_request_id, route),
        route,
        previous=State.REOPENED,
        by=by,
        previous_squad=clue.squad_code,
        extra=clue_events.on_the_way(clue),
    )
    if route.squad_code is None:
        reason = f"reopened: {note}; {route.queue_reason}"
        change = Change(
            State.REOPENED,
            clue.squad_code,
            None,
            reason,
            clue.status_note,
            queue_reason_code=route.queue_reason_code,
        )
        return change, follow, route
    change = Change(State.DISPATCHED, route.squad_code, clue_events.deadline(route), None, note)
    return change, follow, route


async def _manual_dispatch(session: AsyncSession, clue: ClueRecord, asked: Asked) -> None:
    """An operator sends the clue to a squad of their choice, always with a reason."""
    by, note, squad_code = asked.by, asked.note, asked.squad_code
    if not squad_code:
        raise InvalidInput("dispatch needs `squad`, the code of the squad to send")
    if note is None:
        raise InvalidInput("a manual dispatch needs a reason in `note`")
    if not await squads_service.exists(session=session, code=squad_code):
        raise InvalidInput(f"unknown squad {squad_code}")
    route = await _route_again(session, clue, prefer=squad_code)
    chosen = replace(
        route,
        squad_code=squad_code,
        distance_m=route.distance_m if route.squad_code == squad_code else None,
    )
    event = clue_events.dispatched_or_queued(
        clue_events.identity(clue.id, clue.service_request_id, chosen),
        chosen,
        previous=clue.state,
        by=by,
        previous_squad=clue.squad_code,
        extra={"note": note, "manual": True, **clue_events.on_the_way(clue)},
    )
    change = Change(
        State.DISPATCHED, squad_code, clue_events.deadline(chosen), None, clue.status_note
    )
    await steps.apply(session, clue.id, change, [event], route=chosen)


async def _reloaded(session: AsyncSession, clue_id: int) -> ClueRecord:
    clue = await repository.get(session, clue_id)
    if clue is None:  # cannot happen inside the transaction that holds its row lock
        raise NotFound(f"no clue {clue_id}")
    return clue


async def find_by_external_id(
    *, session: AsyncSession, source: str, external_id: str
) -> str | None:
    """The public code of the clue imported from `source` with its own ticket id, if any."""
    return await repository.by_external_id(session, source, external_id)


async def service_request_for_token(*, session: AsyncSession, token: str) -> str | None:
    """The public code of the request an Open311 intake token stands for, if any."""
    return await repository.by_intake_token(session, token)


async def reveal_reporter(
    *, session: AsyncSession, clue_id: int, by: Principal, reason: str
) -> repository.ReporterContact:
    """The reporter's contact details, for an operator who must call back. Only operators
    and admins in scope; every look is recorded (`clue.contact_viewed`, without the data)."""
    if by.role not in (Role.OPERATOR, Role.ADMIN):
        raise Forbidden("only operators may see a reporter's contact details")
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the contact details are needed (`reason`)")
    clue = await get_scoped(session=session, clue_id=clue_id, by=by)
    contact = await repository.reporter_contact(session, clue.id)
    await outbox.record(
        session,
        [
            clue_events.about(
                clue,
                "clue.contact_viewed",
                {"by": by.as_actor(), "reason": reason[:500]},
                seen_by=(),
            )
        ],
    )
    return contact


async def lock(*, session: AsyncSession, clue_id: int) -> ClueRecord:
    """The clue with its row locked for this transaction; NotFound if there is none."""
    clue = await repository.get(session, clue_id, for_update=True)
    if clue is None:
        raise NotFound(f"no clue {clue_id}")
    return clue


async def _rework(session: AsyncSession, clue: ClueRecord, asked: Asked) -> None:
    """Verification found it not fixed (返工): back to the same squad with a fresh deadline."""
    by, note = asked.by, asked.note
    route = await _route_again(session, clue, prefer=clue.squad_code)
    deadline = clue_events.deadline(replace(route, squad_code=clue.squad_code))
    event = clue_events.transition(clue, State.DISPATCHED, by=by, note=note)
    event.data.update({"rework": True, "deadline": iso_utc(deadline) if deadline else None})
    change = Change(State.DISPATCHED, clue.squad_code, deadline, None, note)
    await steps.apply(session, clue.id, change, [event], route=route)
    await repository.count_rework(session, clue.id)


async def accept_timed_out(*, session: AsyncSession, clue: ClueRecord, now: datetime) -> str:
    """The squad did not accept in time: the next best squad gets it and the operator is
    told; after a second miss it goes to the operator queue. Returns what happened."""
    assert clue.squad_code is not None
    missed = await repository.add_missed(session, clue.id, clue.squad_code)
    route = await dispatch_service.route(
        session=session,
        lon=clue.lon,
        lat=clue.lat,
        matter_code=clue.matter_code,
        exclude=frozenset(missed),
        now=now,
    )
    ident = clue_events.identity_of(clue)
    notice = clue_events.about(
        clue,
        "clue.accept_timeout",
        {
            "squad_code": clue.squad_code,
            "missed_by": missed,
            "next_squad": route.squad_code if len(missed) < 2 else None,
        },
    )
    if len(missed) < 2 and route.squad_code is not None:
        follow = clue_events.dispatched_or_queued(
            ident,
            route,
            previous=State.DISPATCHED,
            by=SYSTEM,
            previous_squad=clue.squad_code,
            extra=clue_events.on_the_way(clue),
        )
        follow.data["reason"] = (
            f"{clue.squad_code} did not accept within {route.accept_minutes} min"
        )
        deadline = clue_events.deadline(route)
        change = Change(State.DISPATCHED, route.squad_code, deadline, None, clue.status_note)
        await steps.apply(session, clue.id, change, [notice, follow], route=route)
        return f"redispatched to {route.squad_code}"
    next_state(clue.state, Action.EXPIRE)
    reason = f"not accepted in time by {', '.join(missed)}"
    queued = clue_events.dispatched_or_queued(
        ident,
        replace(route, squad_code=None),
        previous=State.RECEIVED,
        by=SYSTEM,
        previous_squad=clue.squad_code,
        extra={},
        reason=reason,
        reason_code=WaitReason.NOT_ACCEPTED,
    )
    waiting = Change(
        State.RECEIVED,
        None,
        None,
        reason,
        clue.status_note,
        queue_reason_code=WaitReason.NOT_ACCEPTED,
    )
    await steps.apply(session, clue.id, waiting, [notice, queued])
    return "to the operator queue"


Handler = Callable[[AsyncSession, ClueRecord, Asked], Awaitable[None]]

# The actions with a step of their own; every other action is a plain `_transition`.
HANDLERS: dict[Action, Handler] = {
    Action.DISPATCH: _manual_dispatch,
    Action.REWORK: _rework,
    Action.LINK: _link,
    Action.UNLINK: _unlink,
    Action.RELOCATE: _relocate,
}
