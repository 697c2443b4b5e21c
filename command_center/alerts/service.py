"""Alerts from the event log: planned from committed events, sent by the channels.

Planning reads the outbox after its cursor, as the webhooks do, in one transaction per
batch (the cursor row is locked: one process plans at a time). A `clue.dispatched`
plans, for each active member of the squad, the first channel of their ladder now and
the second after `escalate_after` (sent only if the clue still waits for that squad
then); any other step of the clue (accepted, returned, another squad) cancels the
members' alerts not yet sent. `clue.received`, `clue.handled` and `clue.closed` plan an
SMS to a reporter who left a number, unless they opted out or had `reporter_per_day`
today (then the attempt is recorded as skipped). Quiet hours move an attempt's due
time to their end.

Sending takes due attempts one by one, each locked in its own transaction (several
processes share the work), looks the address up, sends, and records the outcome. A
retryable failure is tried again with back-off up to `max_tries`; the last failure
writes `clue.alert_failed`, a warning for the wall. An attempt is at least once: a
process that dies after sending and before its commit sends again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.alerts import repository
from command_center.alerts.model import (
    LADDER_STEPS,
    REPORTER_STEPS,
    Channel,
    ChannelName,
    Identities,
    QuietHours,
    SendFailed,
    Step,
    Texts,
    backoff_seconds,
    channel_ladder,
    local_day_start,
    member_key,
    recipient_key,
)
from command_center.alerts.repository import Listed, Member
from command_center.auth.model import SYSTEM
from command_center.clues import service as clues_service
from command_center.clues.model import ClueRecord, State
from command_center.db.session import Database
from command_center.errors import NotFound
from command_center.privacy import mask_phone
from command_center.realtime import outbox
from command_center.realtime import repository as events_repository
from command_center.realtime.events import Event, PendingEvent

log = logging.getLogger(__name__)

BATCH = 200
SEND_BATCH = 50
MEMBER_STEPS = (Step.DISPATCH.value, Step.ESCALATION.value)
LADDER_STEP_NAMES = frozenset(step.value for step in LADDER_STEPS.values())
WORKING = frozenset({State.DISPATCHED, State.ACCEPTED, State.ON_SCENE})


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    texts: Texts
    zone: ZoneInfo
    key: str  # keys the HMAC of reporters' numbers
    escalate_after: timedelta
    max_tries: int
    reporter_per_day: int
    reporter_quiet: QuietHours | None = None


# --- planning -----------------------------------------------------------------------


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
        ladder = channel_ladder(_identities(person), channels)
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
    clue = await _clue(session, clue_id)
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
        for channel in channel_ladder(_identities(person), channels)[:width]:
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
    quiet = _quiet_of(person)
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
            recipient_masked=_masked(person, channel),
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
    clue = await _clue(session, clue_id)
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


# --- sending ------------------------------------------------------------------------


async def send_round(
    database: Database,
    *,
    policy: AlertPolicy,
    channels: Mapping[ChannelName, Channel],
    now: datetime,
) -> int:
    """Send what is due; returns attempts sent."""
    async with database.sessions() as session:
        ids = await repository.due_ids(session, now, SEND_BATCH)
    sent = 0
    for attempt_id in ids:
        sent += await _send_one(database, attempt_id, policy=policy, channels=channels, now=now)
    return sent


async def _send_one(
    database: Database,
    attempt_id: int,
    *,
    policy: AlertPolicy,
    channels: Mapping[ChannelName, Channel],
    now: datetime,
) -> int:
    async with database.transaction() as session:
        attempt = await repository.claim(session, attempt_id)
        if attempt is None:
            return 0
        clue = await _clue(session, attempt.clue_id)
        channel = channels.get(ChannelName(attempt.channel))
        reason = _why_not(attempt, clue, channel)
        if (
            reason is None
            and attempt.audience == "reporter"
            and await repository.opted_out(session, attempt.recipient_key)
        ):
            reason = "opted out"
        if reason is not None or clue is None or channel is None:
            await repository.settle(
                session, attempt.id, status="cancelled", tries=attempt.tries, error=reason
            )
            return 0
        address = await _address(session, attempt, clue)
        if address is None:
            await repository.settle(
                session, attempt.id, status="failed", tries=attempt.tries, error="no address"
            )
            return 0
        tries = attempt.tries + 1
        try:
            provider_id = await channel.send(address, _text(attempt, clue, policy.texts))
        except SendFailed as exc:
            await _failed(session, attempt, clue, exc, tries=tries, policy=policy, now=now)
            return 0
        await repository.settle(
            session, attempt.id, status="sent", tries=tries, provider_id=provider_id, sent_at=now
        )
        return 1


def _why_not(
    attempt: repository.Attempt, clue: ClueRecord | None, channel: Channel | None
) -> str | None:
    if clue is None:
        return "the clue is gone"
    if channel is None:
        return f"the {attempt.channel} channel is off"
    if attempt.step in MEMBER_STEPS:
        if clue.state is not State.DISPATCHED:
            return f"the clue is {clue.state.value}"
        if clue.squad_code != attempt.squad_code:
            return "the clue went to another squad"
    if attempt.step in LADDER_STEP_NAMES and clue.state not in WORKING:
        return f"the clue is {clue.state.value}"
    return None


async def _failed(
    session: AsyncSession,
    attempt: repository.Attempt,
    clue: ClueRecord,
    exc: SendFailed,
    *,
    tries: int,
    policy: AlertPolicy,
    now: datetime,
) -> None:
    error = str(exc)[:500]
    if exc.retryable and tries < policy.max_tries:
        retry = now + timedelta(seconds=backoff_seconds(tries))
        await repository.settle(
            session, attempt.id, status="pending", tries=tries, error=error, due_at=retry
        )
        return
    await repository.settle(session, attempt.id, status="failed", tries=tries, error=error)
    log.warning("alert %s of clue %s failed for good: %s", attempt.id, clue.id, error)
    await outbox.record(
        session,
        [
            PendingEvent(
                type="clue.alert_failed",
                clue_id=clue.id,
                jurisdiction_path=clue.jurisdiction_path,
                data={
                    "clue_id": clue.id,
                    "service_request_id": clue.service_request_id,
                    "jurisdiction_code": clue.jurisdiction_code,
                    "matter_code": clue.matter_code,
                    "step": attempt.step,
                    "audience": attempt.audience,
                    "channel": attempt.channel,
                    "tries": tries,
                    "error": error,
                },
            )
        ],
    )


async def _address(
    session: AsyncSession, attempt: repository.Attempt, clue: ClueRecord
) -> str | None:
    if attempt.audience == "reporter":
        return clue.reporter_phone
    if attempt.user_id is None:
        return None
    person = await repository.member(session, attempt.user_id)
    return _identities(person).address(ChannelName(attempt.channel)) if person else None


def _text(attempt: repository.Attempt, clue: ClueRecord, texts: Texts) -> str:
    if attempt.audience == "reporter":
        return texts.reporter(Step(attempt.step), progress_code=clue.progress_code or "")
    if attempt.step in LADDER_STEP_NAMES:
        return texts.ladder(
            Step(attempt.step),
            case=clue.service_request_id,
            matter=clue.matter_name,
            squad=attempt.squad_code or "",
            clue_id=clue.id,
        )
    return texts.dispatch(
        case=clue.service_request_id,
        matter=clue.matter_name,
        clue_id=clue.id,
        again=attempt.step == Step.ESCALATION.value,
    )


# --- receipts, replies and the record ---------------------------------------------


async def record_receipt(
    database: Database, *, channel: ChannelName, provider_id: str, status: str, delivered: bool
) -> None:
    """A gateway's later word on a sent message (a CMPP status report)."""
    async with database.transaction() as session:
        await repository.add_receipt(
            session,
            channel=channel.value,
            provider_id=provider_id,
            status=status,
            delivered=delivered,
        )


async def record_opt_out(database: Database, *, policy: AlertPolicy, phone: str) -> None:
    """A reporter answered 退订: nothing more is sent to that number, from now on."""
    async with database.transaction() as session:
        await repository.opt_out(session, recipient_key(policy.key, phone))


async def attempts_for_clue(session: AsyncSession, *, clue_id: int) -> list[Listed]:
    """Every attempt of the clue, oldest first, recipients masked."""
    return await repository.for_clue(session, clue_id)


def clock_round(
    database: Database,
    *,
    policy: AlertPolicy,
    channels: Mapping[ChannelName, Channel],
    clock: Callable[[], datetime],
) -> Callable[[], Awaitable[int]]:
    """One round of the worker: plan what the new events ask for, then send what is due."""

    async def run() -> int:
        await plan_round(database, policy=policy, channels=frozenset(channels), now=clock())
        return await send_round(database, policy=policy, channels=channels, now=clock())

    return run


# --- helpers ------------------------------------------------------------------------


async def _clue(session: AsyncSession, clue_id: int) -> ClueRecord | None:
    try:
        return await clues_service.get_scoped(session=session, clue_id=clue_id, by=SYSTEM)
    except NotFound:
        return None


def _identities(person: Member) -> Identities:
    preferred = person.preferred_channel
    return Identities(
        phone=person.phone,
        dingtalk_userid=person.dingtalk_userid,
        wecom_userid=person.wecom_userid,
        preferred=ChannelName(preferred) if preferred else None,
    )


def _quiet_of(person: Member) -> QuietHours | None:
    if person.quiet_start is None or person.quiet_end is None:
        return None
    return QuietHours(_naive(person.quiet_start), _naive(person.quiet_end))


def _naive(moment: time) -> time:
    return moment.replace(tzinfo=None)


def _masked(person: Member, channel: ChannelName) -> str:
    address = _identities(person).address(channel) or ""
    if channel is ChannelName.SMS:
        return mask_phone(address) or ""
    return address  # a work-app userid is the staff member's own, not a resident's number
