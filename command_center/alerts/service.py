"""Alerts from the event log: planned from committed events, sent by the channels.

Planning reads the outbox after its cursor, as the webhooks do, in one transaction per
batch (the cursor row is locked: one process plans at a time). A `clue.dispatched`
plans, for each active member of the squad, the first channel of their ladder now and
the second after `escalate_after` (sent only if the clue still waits for that squad
then); any other step of the clue (accepted, returned, another squad) cancels the
members' alerts not yet sent. The ladder's `clue.reminder` alerts the squad's members,
`clue.supervision_order` and `clue.escalated` the supervisors over the clue's
jurisdiction. `clue.received`, `clue.handled` and `clue.closed` plan an
SMS to a reporter who left a number, unless they opted out or had `reporter_per_day`
today (then the attempt is recorded as skipped). Quiet hours move an attempt's due
time to their end.

Sending takes due attempts one by one, each locked in its own transaction (several
processes share the work), looks the address up, sends, and records the outcome. A
retryable failure is tried again with back-off up to `max_tries`; the last failure
writes `clue.alert_failed`, a warning for the wall. An attempt is at least once: a
process that dies after sending and before its commit sends again.

Planning is alerts/planner.py, sending alerts/sender.py; this module is what the rest of
the service calls.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.alerts import repository
from command_center.alerts.model import AlertPolicy, Channel, ChannelName, recipient_key
from command_center.alerts.planner import plan_round
from command_center.alerts.repository import Listed
from command_center.alerts.sender import send_round
from command_center.db.session import Database


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
