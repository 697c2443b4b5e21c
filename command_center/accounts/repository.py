"""The only SQL of accounts: users, sessions, failed sign-ins, token records, and what
the revocation watcher reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

USER_COLUMNS = (
    "u.id, u.login, u.full_name, u.officer_number, u.phone, u.department, u.role, "
    "u.squad_code, u.jurisdiction_code, u.active, u.password_hash, "
    "u.password_change_required, u.totp_secret, u.wecom_userid, u.dingtalk_userid, "
    "u.preferred_channel, u.quiet_start, u.quiet_end, u.password_changed_at"
)


@dataclass(frozen=True, slots=True)
class UserRow:
    id: int
    login: str
    full_name: str
    officer_number: str | None
    phone: str | None
    department: str
    role: str
    squad_code: str | None
    jurisdiction_code: str | None
    active: bool
    password_hash: str
    password_change_required: bool
    totp_secret: str | None
    wecom_userid: str | None = None  # alert channel identities (alerts/)
    dingtalk_userid: str | None = None
    preferred_channel: str | None = None
    quiet_start: time | None = None  # local time; the window may span midnight
    quiet_end: time | None = None
    password_changed_at: datetime | None = None

    @property
    def quiet_hours(self) -> str | None:
        if self.quiet_start is None or self.quiet_end is None:
            return None
        return f"{self.quiet_start:%H:%M}-{self.quiet_end:%H:%M}"


def _user(row: Any) -> UserRow:
    return UserRow(*row[:19])


@dataclass(frozen=True, slots=True)
class SessionRow:
    id: str
    csrf_token: str
    created_at: datetime
    last_seen_at: datetime
    idle_seconds: int
    expires_at: datetime
    user: UserRow


@dataclass(frozen=True, slots=True)
class TokenRow:
    id: str
    kind: str
    name: str
    role: str
    squad_code: str | None
    jurisdiction_code: str | None
    device: str | None
    user_id: int | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


RECORD_COLUMNS = (
    "id, kind, name, role, squad_code, jurisdiction_code, device, user_id, created_by, "
    "created_at, expires_at, revoked_at"
)


async def insert_user(session: AsyncSession, **values: Any) -> int:
    """Insert an account; IntegrityError when the login or officer number is taken."""
    row = await session.execute(
        text(
            "INSERT INTO users (login, full_name, officer_number, phone, department, role, "
            "squad_code, jurisdiction_code, password_hash, password_change_required, "
            "totp_secret, wecom_userid, dingtalk_userid, preferred_channel, quiet_start, "
            "quiet_end) VALUES (:login, :full_name, :officer_number, :phone, :department, "
            ":role, :squad_code, :jurisdiction_code, :password_hash, "
            ":password_change_required, :totp_secret, :wecom_userid, :dingtalk_userid, "
            ":preferred_channel, :quiet_start, :quiet_end) RETURNING id"
        ),
        {
            "wecom_userid": None,
            "dingtalk_userid": None,
            "preferred_channel": None,
            "quiet_start": None,
            "quiet_end": None,
            **values,
        },
    )
    return int(row.scalar_one())


async def user_by_login(session: AsyncSession, login: str) -> UserRow | None:
    row = (
        await session.execute(
            text(f"SELECT {USER_COLUMNS} FROM users u WHERE u.login = :login"), {"login": login}
        )
    ).one_or_none()
    return _user(row) if row else None


async def user_by_id(session: AsyncSession, user_id: int) -> UserRow | None:
    row = (
        await session.execute(
            text(f"SELECT {USER_COLUMNS} FROM users u WHERE u.id = :id"), {"id": user_id}
        )
    ).one_or_none()
    return _user(row) if row else None


async def list_users(session: AsyncSession) -> list[UserRow]:
    rows = await session.execute(text(f"SELECT {USER_COLUMNS} FROM users u ORDER BY u.login"))
    return [_user(row) for row in rows]


async def second_factor_secrets(session: AsyncSession) -> list[tuple[int, str]]:
    """(account id, sealed TOTP secret) of every account that has one, locked for update."""
    rows = await session.execute(
        text(
            "SELECT id, totp_secret FROM users WHERE totp_secret IS NOT NULL ORDER BY id FOR UPDATE"
        )
    )
    return [(int(row[0]), str(row[1])) for row in rows]


async def update_user(session: AsyncSession, user_id: int, **values: Any) -> None:
    """Set the named columns (names come from the service, never from a caller)."""
    assignments = ", ".join(f"{name} = :{name}" for name in values)
    await session.execute(
        text(f"UPDATE users SET {assignments}, updated_at = now() WHERE id = :id"),
        {**values, "id": user_id},
    )


async def role_names(session: AsyncSession) -> set[str]:
    return set((await session.execute(text("SELECT name FROM roles"))).scalars())


async def replace_recovery_codes(session: AsyncSession, user_id: int, hashes: list[str]) -> None:
    await session.execute(text("DELETE FROM recovery_codes WHERE user_id = :u"), {"u": user_id})
    for code_hash in hashes:
        await session.execute(
            text("INSERT INTO recovery_codes (user_id, code_hash) VALUES (:u, :h)"),
            {"u": user_id, "h": code_hash},
        )


async def use_recovery_code(session: AsyncSession, user_id: int, code_hash: str) -> bool:
    """Mark an unused recovery code used; whether there was one."""
    used = await session.execute(
        text(
            "UPDATE recovery_codes SET used_at = now() "
            "WHERE user_id = :u AND code_hash = :h AND used_at IS NULL RETURNING 1"
        ),
        {"u": user_id, "h": code_hash},
    )
    return used.scalar_one_or_none() is not None


# --- sessions ----------------------------------------------------------------------------


async def insert_session(
    session: AsyncSession,
    *,
    session_id: str,
    user_id: int,
    csrf_token: str,
    idle_seconds: int,
    expires_at: datetime,
    address: str,
    user_agent: str,
) -> None:
    await session.execute(
        text(
            "INSERT INTO user_sessions (id, user_id, csrf_token, idle_seconds, expires_at, "
            "address, user_agent) VALUES (:id, :user, :csrf, :idle, :expires, :address, :agent)"
        ),
        {
            "id": session_id,
            "user": user_id,
            "csrf": csrf_token,
            "idle": idle_seconds,
            "expires": expires_at,
            "address": address,
            "agent": user_agent,
        },
    )


async def open_session(session: AsyncSession, session_id: str) -> SessionRow | None:
    """The session with this (hashed) id if it has not ended (its deadlines are the
    service's to check)."""
    row = (
        await session.execute(
            text(
                "SELECT s.id, s.csrf_token, s.created_at, s.last_seen_at, s.idle_seconds, "
                f"s.expires_at, {USER_COLUMNS} FROM user_sessions s "
                "JOIN users u ON u.id = s.user_id WHERE s.id = :id AND s.ended_at IS NULL"
            ),
            {"id": session_id},
        )
    ).one_or_none()
    if row is None:
        return None
    return SessionRow(
        id=row[0],
        csrf_token=row[1],
        created_at=row[2],
        last_seen_at=row[3],
        idle_seconds=row[4],
        expires_at=row[5],
        user=_user(row[6:]),
    )


async def touch_session(session: AsyncSession, session_id: str, now: datetime) -> None:
    await session.execute(
        text("UPDATE user_sessions SET last_seen_at = :now WHERE id = :id AND ended_at IS NULL"),
        {"id": session_id, "now": now},
    )


async def end_session(session: AsyncSession, session_id: str, reason: str) -> int | None:
    """End one open session; its user's id, or None when it was not open."""
    row = await session.execute(
        text(
            "UPDATE user_sessions SET ended_at = now(), end_reason = :why "
            "WHERE id = :id AND ended_at IS NULL RETURNING user_id"
        ),
        {"id": session_id, "why": reason},
    )
    found = row.scalar_one_or_none()
    return int(found) if found is not None else None


async def end_sessions_of(session: AsyncSession, user_id: int, reason: str) -> int:
    result = await session.execute(
        text(
            "UPDATE user_sessions SET ended_at = now(), end_reason = :why "
            "WHERE user_id = :user AND ended_at IS NULL"
        ),
        {"user": user_id, "why": reason},
    )
    return int(getattr(result, "rowcount", 0))


# --- failed sign-ins ---------------------------------------------------------------------


async def record_failure(session: AsyncSession, *, login: str, address: str) -> None:
    await session.execute(
        text("INSERT INTO login_failures (login, address) VALUES (:login, :address)"),
        {"login": login, "address": address},
    )


async def failures_since(
    session: AsyncSession, *, login: str, address: str, since: datetime
) -> tuple[list[datetime], list[datetime]]:
    """Times of failed sign-ins since `since`: for this login, and from this address."""
    rows = await session.execute(
        text(
            "SELECT login = :login AS same_login, address = :address AS same_address, at "
            "FROM login_failures WHERE at >= :since AND (login = :login OR address = :address)"
        ),
        {"login": login, "address": address, "since": since},
    )
    by_login, by_address = [], []
    for row in rows:
        if row.same_login:
            by_login.append(row.at)
        if row.same_address:
            by_address.append(row.at)
    return by_login, by_address


async def clear_failures(session: AsyncSession, login: str) -> None:
    await session.execute(text("DELETE FROM login_failures WHERE login = :l"), {"l": login})


# --- tokens ------------------------------------------------------------------------------


async def insert_token(session: AsyncSession, **values: Any) -> None:
    await session.execute(
        text(
            "INSERT INTO api_tokens (id, kind, name, role, squad_code, jurisdiction_code, "
            "device, user_id, created_by, expires_at) VALUES (:id, :kind, :name, :role, "
            ":squad_code, :jurisdiction_code, :device, :user_id, :created_by, :expires_at)"
        ),
        values,
    )


async def tokens(session: AsyncSession, *, user_id: int | None) -> list[TokenRow]:
    """Token records, newest first: of one account, or (user_id None) all of them."""
    where = "WHERE user_id = :user" if user_id is not None else ""
    rows = await session.execute(
        text(f"SELECT {RECORD_COLUMNS} FROM api_tokens {where} ORDER BY created_at DESC, id"),
        {"user": user_id},
    )
    return [TokenRow(*row) for row in rows]


async def token(session: AsyncSession, token_id: str) -> TokenRow | None:
    row = (
        await session.execute(
            text(f"SELECT {RECORD_COLUMNS} FROM api_tokens WHERE id = :id"), {"id": token_id}
        )
    ).one_or_none()
    return TokenRow(*row) if row else None


async def revoke_token(session: AsyncSession, token_id: str) -> bool:
    result = await session.execute(
        text("UPDATE api_tokens SET revoked_at = now() WHERE id = :id AND revoked_at IS NULL"),
        {"id": token_id},
    )
    return bool(getattr(result, "rowcount", 0))


async def revoke_tokens_of(session: AsyncSession, user_id: int) -> list[str]:
    rows = await session.execute(
        text(
            "UPDATE api_tokens SET revoked_at = now() "
            "WHERE user_id = :user AND revoked_at IS NULL RETURNING id"
        ),
        {"user": user_id},
    )
    return list(rows.scalars())


# --- what the revocation watcher reads ---------------------------------------------------

ENDED = text("""
SELECT 'token' AS kind, id AS ref FROM api_tokens
 WHERE revoked_at IS NOT NULL AND expires_at > now()
UNION ALL
SELECT 'session', id FROM user_sessions
 WHERE expires_at > now() - interval '1 minute'
   AND (ended_at IS NOT NULL OR last_seen_at + idle_seconds * interval '1 second' < now())
UNION ALL
SELECT 'user', CAST(id AS text) FROM users WHERE NOT active
""")


async def ended(session: AsyncSession) -> list[tuple[str, str]]:
    """(kind, ref) of every revoked token and ended or idle session that could still be
    presented, and every disabled account."""
    return [(row.kind, row.ref) for row in await session.execute(ENDED)]
