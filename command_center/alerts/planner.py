"""Planning alerts from the event log (see alerts/service.py for the whole story).

The outbox is read after the planner's cursor, as the webhooks read it, in one
transaction per batch; the cursor row is locked, so one process plans at a time. Each
event plans its attempts (or cancels members' alerts the clue no longer needs); a replayed
event plans nothing twice (one attempt per event, step, person and channel).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.alerts import repository
from command_center.alerts.lookups import clue_of, identities_of, masked, quiet_of
from command_center.alerts.model import (
    LADDER_STEPS,
    REPORTER_STEPS,
    AlertPolicy,
    ChannelName,
    Step,
    channel_ladder,
    local_day_start,
    member_key,
    recipient_key,
)
from command_center.alerts.repository import Member
from command_center.clues.model import State
from command_center.db.session import Database
from command_center.privacy import mask_phone
from command_center.realtime import repository as events_repository
from command_center.realtime.events import Event

BATCH = 200


async def plan_round(
    database: Database, *, policy: AlertPolicy, channels: frozenset[ChannelName], now: datetime
) -> int:
    """Plan the alerts of the events after the cursor; returns attempts planned."""
    async with database.transaction() as session:
        cursor = await repository.claim_cursor(session)
        if cursor is None:
            return 0
        events = await events_repository.after(session, after_id=cursor, limit=BATCH)
        planned = 0
        for event in events:
            planned += await _plan(session, event, policy=policy, channels=channels, now=now)
        if events:
            await repository.move_cursor(session, events[-1].id)
        return planned


async def _plan(
    session: AsyncSession,
    event: Event,
    *,
    policy: AlertPolicy,
    channels: frozenset[ChannelName],
    now: datetime,
) -> int:
    clue_id = event.data.get("clue_id")
    if not isinstance(clue_id, int):
        return 0
    moved_to = event.data.get("to")
    if event.type == "clue.dispatched" and event.data.get("squad_code"):
        await repository.cancel_member_alerts(
            session,
            clue_id,
            reason="the clue went to another squad",
            keep_squad=str(event.data["squad_code"]),
        )
        return await _plan_squad(
            session, event, clue_id, str(event.data["squad_code"]), policy, channels, now
        )
    if isinstance(moved_to, str) and moved_to != State.DISPATCHED.value:
        await repository.cancel_member_alerts(session, clue_id, reason=f"the clue is {moved_to}")
    rung = LADDER_STEPS.get(event.type)
    if rung is not None:
        return await _plan_ladder(session, event, clue_id, rung, policy, channels, now)
    step = REPORTER_STEPS.get(event.type)
    if step is not None and ChannelName.SMS in channels:
        return await _plan_reporter(session, event, clue_id, step, policy, now)
    return 0


async def _plan_squad(
    session: AsyncSession,
    event: Event,
    clue_id: int,
    squad: str,
    policy: AlertPolicy,
    channels: frozenset[ChannelName],
    now: datetime,
) -> int:
    planned = 0
    for person in await repository.squad_members(session, squad):
        ladder = channel_ladder(identities_of(person), channels)
        if not ladder:
            continue
        rungs = [(Step.DISPATCH, ladder[0], now)]
        if policy.escalate_after.total_seconds() > 0:
            second = ladder[1] if len(ladder) > 1 else ladder[0]
            rungs.append((Step.ESCALATION, second, now + policy.escalate_after))
        for step, channel, due in rungs:
            planned += await _plan_person(
                session,
                event,
                clue_id,
                person,
                step=step,
                channel=channel,
                audience="member",
                squad=squad,
                due=due,
                policy=policy,
            )
    return planned


async def _plan_ladder(
    session: AsyncSession,
    event: Event,
    clue_id: int,
    step: Step,
    policy: AlertPolicy,
    channels: frozenset[ChannelName],
    now: datetime,
) -> int:
    """A rung of the supervision ladder: the reminder to the squad's members, the order
    and the escalation to the supervisors over the clue's jurisdiction (the escalation on
    their first two channels at once)."""
    clue = await clue_of(session, clue_id)
    if clue is None:
        return 0
    if step is Step.REMINDER:
        if clue.squad_code is None:
            return 0
        people, audience = await repository.squad_members(session, clue.squad_code), "member"
    else:
        people, audience = await repository.leaders(session, clue.jurisdiction_path), "leader"
    width = 2 if step is Step.ESCALATED else 1
    planned = 0
    for person in people:
        for channel in channel_ladder(identities_of(person), channels)[:width]:
            planned += await _plan_person(
                session,
                event,
                clue_id,
                person,
                step=step,
                channel=channel,
                audience=audience,
                squad=clue.squad_code,
                due=now,
                policy=policy,
            )
    return planned


async def _plan_person(
    session: AsyncSession,
    event: Event,
    clue_id: int,
    person: Member,
    *,
    step: Step,
    channel: ChannelName,
    audience: str,
    squad: str | None,
    due: datetime,
    policy: AlertPolicy,
) -> int:
    """One staff member's attempt; held to the end of their quiet hours. `waiting` for
    the dispatch's second channel (sent only if still unaccepted), else `pending`."""
    quiet = quiet_of(person)
    held = quiet.release(due, policy.zone) if quiet else None
    return int(
        await repository.insert_attempt(
            session,
            clue_id=clue_id,
            event_id=event.id,
            step=step.value,
            audience=audience,
            user_id=person.user_id,
            squad_code=squad,
            channel=channel.value,
            recipient_masked=masked(person, channel),
            recipient_key=member_key(person.user_id),
            status="waiting" if step is Step.ESCALATION else "pending",
            error=f"quiet hours {quiet} until {held:%H:%M}" if quiet and held else None,
            due_at=held or due,
        )
    )


async def _plan_reporter(
    session: AsyncSession,
    event: Event,
    clue_id: int,
    step: Step,
    policy: AlertPolicy,
    now: datetime,
) -> int:
    clue = await clue_of(session, clue_id)
    if clue is None or not clue.reporter_phone or not clue.progress_code:
        return 0
    key = recipient_key(policy.key, clue.reporter_phone)
    if await repository.opted_out(session, key):
        return 0
    status, error, due = "pending", None, now
    today = await repository.counted_since(session, key, local_day_start(now, policy.zone))
    if today >= policy.reporter_per_day:
        status, error = "skipped", f"daily cap of {policy.reporter_per_day} reached"
    elif policy.reporter_quiet is not None:
        held = policy.reporter_quiet.release(now, policy.zone)
        if held is not None:
            due, error = held, f"quiet hours {policy.reporter_quiet} until {held:%H:%M}"
    return int(
        await repository.insert_attempt(
            session,
            clue_id=clue_id,
            event_id=event.id,
            step=step.value,
            audience="reporter",
            channel=ChannelName.SMS.value,
            recipient_masked=mask_phone(clue.reporter_phone) or "",
            recipient_key=key,
            status=status,
            error=error,
            due_at=due,
        )
    )
