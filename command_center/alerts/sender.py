"""Sending what is due (see alerts/service.py for the whole story).

Due attempts are taken one by one, each locked in its own transaction while it is sent
(several processes share the work: a locked attempt is skipped), the address looked up
at that moment, and the outcome recorded. A retryable failure is tried again with
back-off up to `max_tries`; the last failure writes `clue.alert_failed`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.alerts import repository
from command_center.alerts.lookups import clue_of, identities_of
from command_center.alerts.model import (
    LADDER_STEPS,
    AlertPolicy,
    Channel,
    ChannelName,
    SendFailed,
    Step,
    Texts,
    backoff_seconds,
)
from command_center.clues.model import ClueRecord, State
from command_center.db.session import Database
from command_center.realtime import outbox
from command_center.realtime.events import PendingEvent

log = logging.getLogger(__name__)

SEND_BATCH = 50
MEMBER_STEPS = (Step.DISPATCH.value, Step.ESCALATION.value)
LADDER_STEP_NAMES = frozenset(step.value for step in LADDER_STEPS.values())
WORKING = frozenset({State.DISPATCHED, State.ACCEPTED, State.ON_SCENE})


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
        clue = await clue_of(session, attempt.clue_id)
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
    return identities_of(person).address(ChannelName(attempt.channel)) if person else None


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
