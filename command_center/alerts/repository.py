"""The only SQL of alerts: the planner's cursor, the attempts, receipts and opt-outs, and
how squad members can be reached."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

OPEN = ("waiting", "pending")


@dataclass(frozen=True, slots=True)
class Member:
    user_id: int
    phone: str | None
    dingtalk_userid: str | None
    wecom_userid: str | None
    preferred_channel: str | None
    quiet_start: time | None
    quiet_end: time | None


@dataclass(frozen=True, slots=True)
class Attempt:
    id: int
    clue_id: int
    event_id: int
    step: str
    audience: str
    user_id: int | None
    squad_code: str | None
    channel: str
    recipient_key: str
    status: str
    tries: int


@dataclass(frozen=True, slots=True)
class Listed:
    id: int
    step: str
    audience: str
    channel: str
    recipient: str
    status: str
    tries: int
    error: str | None
    due_at: datetime
    created_at: datetime
    sent_at: datetime | None
    receipt: str | None
    delivered: bool | None
    receipt_at: datetime | None


MEMBER_COLUMNS = (
    "id, phone, dingtalk_userid, wecom_userid, preferred_channel, quiet_start, quiet_end"
)


async def claim_cursor(session: AsyncSession) -> int | None:
    """The planner's cursor, locked for this transaction; None while another process
    plans."""
    row = await session.execute(
        text("SELECT last_event_id FROM alert_cursor WHERE id = 1 FOR UPDATE SKIP LOCKED")
    )
    value = row.scalar_one_or_none()
    return None if value is None else int(value)


async def move_cursor(session: AsyncSession, event_id: int) -> None:
    await session.execute(
        text("UPDATE alert_cursor SET last_event_id = :id WHERE id = 1"), {"id": event_id}
    )


async def squad_members(session: AsyncSession, squad_code: str) -> list[Member]:
    rows = await session.execute(
        text(
            f"SELECT {MEMBER_COLUMNS} FROM users WHERE squad_code = :squad AND role = 'squad' "
            "AND active ORDER BY id"
        ),
        {"squad": squad_code},
    )
    return [Member(*row) for row in rows]


async def leaders(session: AsyncSession, jurisdiction_path: tuple[str, ...]) -> list[Member]:
    """Active supervisors whose scope holds the clue's jurisdiction (or everything)."""
    rows = await session.execute(
        text(
            f"SELECT {MEMBER_COLUMNS} FROM users WHERE role = 'supervisor' AND active "
            "AND (jurisdiction_code IS NULL OR jurisdiction_code = ANY(:path)) ORDER BY id"
        ),
        {"path": list(jurisdiction_path)},
    )
    return [Member(*row) for row in rows]


async def member_by_login(session: AsyncSession, login: str) -> Member | None:
    row = (
        await session.execute(
            text(f"SELECT {MEMBER_COLUMNS} FROM users WHERE login = :login AND active"),
            {"login": login},
        )
    ).one_or_none()
    return Member(*row) if row else None


async def member(session: AsyncSession, user_id: int) -> Member | None:
    row = (
        await session.execute(
            text(f"SELECT {MEMBER_COLUMNS} FROM users WHERE id = :id AND active"), {"id": user_id}
        )
    ).one_or_none()
    return Member(*row) if row else None


async def insert_attempt(session: AsyncSession, **values: Any) -> bool:
    """A planned attempt; False when the same step already went to the same person on
    the same channel (a replayed event)."""
    values = {"user_id": None, "squad_code": None, "error": None, **values}
    row = await session.execute(
        text(
            "INSERT INTO alert_attempts (clue_id, event_id, step, audience, user_id, "
            "squad_code, channel, recipient_masked, recipient_key, status, error, due_at) "
            "VALUES (:clue_id, :event_id, :step, :audience, :user_id, :squad_code, :channel, "
            ":recipient_masked, :recipient_key, :status, :error, :due_at) "
            "ON CONFLICT DO NOTHING RETURNING id"
        ),
        values,
    )
    return row.scalar_one_or_none() is not None


async def counted_since(session: AsyncSession, recipient_key: str, since: datetime) -> int:
    """Messages to this recipient since `since` that were sent or are on their way."""
    row = await session.execute(
        text(
            "SELECT count(*) FROM alert_attempts WHERE recipient_key = :key "
            "AND created_at >= :since AND status IN ('waiting', 'pending', 'sent')"
        ),
        {"key": recipient_key, "since": since},
    )
    return int(row.scalar_one())


async def opted_out(session: AsyncSession, recipient_key: str) -> bool:
    row = await session.execute(
        text("SELECT 1 FROM alert_opt_outs WHERE recipient_key = :key"), {"key": recipient_key}
    )
    return row.scalar_one_or_none() is not None


async def opt_out(session: AsyncSession, recipient_key: str) -> None:
    await session.execute(
        text("INSERT INTO alert_opt_outs (recipient_key) VALUES (:key) ON CONFLICT DO NOTHING"),
        {"key": recipient_key},
    )
    await session.execute(
        text(
            "UPDATE alert_attempts SET status = 'cancelled', error = 'opted out' "
            "WHERE recipient_key = :key AND status IN ('waiting', 'pending')"
        ),
        {"key": recipient_key},
    )


async def cancel_member_alerts(
    session: AsyncSession, clue_id: int, *, reason: str, keep_squad: str | None = None
) -> None:
    """Members' alerts of the clue not yet sent are no longer needed (those of
    `keep_squad` excepted)."""
    await session.execute(
        text(
            "UPDATE alert_attempts SET status = 'cancelled', error = :reason "
            "WHERE clue_id = :clue AND step IN ('dispatch', 'escalation') "
            "AND status IN ('waiting', 'pending') AND squad_code IS DISTINCT FROM :keep"
        ),
        {"clue": clue_id, "reason": reason, "keep": keep_squad},
    )


async def due_ids(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    rows = await session.execute(
        text(
            "SELECT id FROM alert_attempts WHERE status IN ('waiting', 'pending') "
            "AND due_at <= :now ORDER BY due_at, id LIMIT :limit"
        ),
        {"now": now, "limit": limit},
    )
    return list(rows.scalars())


async def claim(session: AsyncSession, attempt_id: int) -> Attempt | None:
    """The attempt, locked for this transaction, while it is still to be sent; None when
    another process has it or it was settled meanwhile."""
    row = (
        await session.execute(
            text(
                "SELECT id, clue_id, event_id, step, audience, user_id, squad_code, channel, "
                "recipient_key, status, tries FROM alert_attempts "
                "WHERE id = :id AND status IN ('waiting', 'pending') FOR UPDATE SKIP LOCKED"
            ),
            {"id": attempt_id},
        )
    ).one_or_none()
    return Attempt(*row) if row else None


async def settle(
    session: AsyncSession,
    attempt_id: int,
    *,
    status: str,
    tries: int,
    error: str | None = None,
    provider_id: str | None = None,
    due_at: datetime | None = None,
    sent_at: datetime | None = None,
) -> None:
    await session.execute(
        text(
            "UPDATE alert_attempts SET status = :status, tries = :tries, "
            "error = CASE WHEN :status = 'sent' THEN error ELSE :error END, "
            "provider_id = COALESCE(:provider, provider_id), due_at = COALESCE(:due, due_at), "
            "sent_at = COALESCE(:sent, sent_at) WHERE id = :id"
        ),
        {
            "id": attempt_id,
            "status": status,
            "tries": tries,
            "error": error,
            "provider": provider_id,
            "due": due_at,
            "sent": sent_at,
        },
    )


async def add_receipt(
    session: AsyncSession, *, channel: str, provider_id: str, status: str, delivered: bool
) -> None:
    await session.execute(
        text(
            "INSERT INTO alert_receipts (channel, provider_id, status, delivered) "
            "VALUES (:channel, :provider, :status, :delivered)"
        ),
        {"channel": channel, "provider": provider_id, "status": status, "delivered": delivered},
    )


async def for_clue(session: AsyncSession, clue_id: int) -> list[Listed]:
    rows = await session.execute(
        text(
            "SELECT a.id, a.step, a.audience, a.channel, a.recipient_masked, a.status, a.tries, "
            "a.error, a.due_at, a.created_at, a.sent_at, r.status, r.delivered, r.at "
            "FROM alert_attempts a LEFT JOIN LATERAL ("
            "  SELECT status, delivered, at FROM alert_receipts "
            "  WHERE channel = a.channel AND provider_id = a.provider_id "
            "  ORDER BY id DESC LIMIT 1) r ON true "
            "WHERE a.clue_id = :clue ORDER BY a.id"
        ),
        {"clue": clue_id},
    )
    return [Listed(*row) for row in rows]
