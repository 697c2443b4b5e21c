"""Use cases of accounts: create, disable and reset accounts, sign in and out, resolve a
session cookie, change a password, personal and device tokens. Every change is an
`account.*` event in the hash-chained log, in the transaction of the change (actor,
address, user agent; never a password, code or token).

Functions take an explicit session and keyword arguments; the caller commits. `login`
returns a refusal instead of raising it, so that the caller commits the failure (the
lockout counts it) before answering.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pyotp
from pwdlib import PasswordHash
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.accounts import model, repository
from command_center.accounts.model import ADMIN_ROLES, LockRule, PasswordPolicy, RuleBroken
from command_center.accounts.repository import TokenRow, UserRow
from command_center.accounts.totp_vault import TotpVault, VaultError
from command_center.alerts.model import QuietHours
from command_center.auth import tokens
from command_center.auth.model import Principal, Role
from command_center.errors import Conflict, Forbidden, InvalidInput, NotFound
from command_center.realtime import outbox
from command_center.realtime.events import PendingEvent
from command_center.settings import ConfigurationError, Settings

WRONG_CREDENTIALS = "wrong login name or password"
TOUCH_EVERY = timedelta(seconds=15)  # last_seen_at is written at most this often
RECOVERY_CODES = 8
ISSUER_NAME = "综合行政执法指挥中心"


@dataclass(frozen=True, slots=True)
class AccountPolicy:
    password: PasswordPolicy
    login_lock: LockRule
    address_lock: LockRule
    idle: timedelta
    idle_squad: timedelta
    absolute: timedelta
    totp_roles: tuple[str, ...]
    token_days_person: int
    token_days_device: int
    totp_vault: TotpVault | None = None  # None: neither TOTP_KEY nor SECRET_KEY is set
    password_max_age: timedelta | None = None  # None: passwords do not age

    def vault(self) -> TotpVault:
        if self.totp_vault is None:
            raise ConfigurationError(
                "second factors are sealed with TOTP_KEY or SECRET_KEY; set one of them"
            )
        return self.totp_vault

    @classmethod
    def from_settings(cls, settings: Settings) -> AccountPolicy:
        window = timedelta(minutes=settings.login_failure_window_minutes)
        lock = timedelta(minutes=settings.login_lock_minutes)
        return cls(
            password=PasswordPolicy(settings.password_min_length, settings.password_min_classes),
            login_lock=LockRule(settings.login_max_failures, window, lock),
            address_lock=LockRule(settings.login_max_failures_address, window, lock),
            idle=timedelta(minutes=settings.session_idle_minutes),
            idle_squad=timedelta(minutes=settings.session_idle_minutes_squad),
            absolute=timedelta(hours=settings.session_absolute_hours),
            totp_roles=tuple(settings.totp_required_roles),
            token_days_person=settings.token_max_days_person,
            token_days_device=settings.token_max_days_device,
            totp_vault=_vault_of(settings),
            password_max_age=(
                timedelta(days=settings.password_max_age_days)
                if settings.password_max_age_days
                else None
            ),
        )


@cache
def _vault_cached(current: str, previous: tuple[str, ...]) -> TotpVault:
    return TotpVault.from_materials(current, previous)


def _vault_of(settings: Settings) -> TotpVault | None:
    materials = settings.totp_key_materials()
    if materials is None:
        return None
    return _vault_cached(materials[0], tuple(materials[1]))


@dataclass(frozen=True, slots=True)
class Client:
    """Where a request came from, as the audit log records it."""

    address: str = ""
    user_agent: str = ""


CLI = Client(address="cli", user_agent="command-center")


@cache
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()  # Argon2id, pwdlib's recommended parameters


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


def hash_secret(value: str) -> str:
    """SHA-256 of a high-entropy secret (session id, recovery code): enough, since such a
    value cannot be guessed; passwords get Argon2id instead."""
    return hashlib.sha256(value.encode()).hexdigest()


def principal_of(
    user: UserRow, *, credential: str | None, expires_at: datetime | None
) -> Principal:
    """The principal acting for an account: its role, its scope from the account."""
    return Principal(
        role=Role(user.role),
        subject=user.login,
        squad=user.squad_code,
        jurisdiction=user.jurisdiction_code,
        user_id=user.id,
        credential=credential,
        expires_at=expires_at.timestamp() if expires_at else None,
    )


async def _record(session: AsyncSession, event: str, client: Client, **data: Any) -> None:
    body = {**data, "address": client.address, "user_agent": client.user_agent[:200]}
    await outbox.record(session, [PendingEvent(type=f"account.{event}", data=body)])


def _actor(by: Principal | None) -> dict[str, Any]:
    return by.as_actor() if by else {"role": "system", "subject": "cli", "squad": None}


# --- accounts ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelIdentities:
    """Where an account is alerted (alerts/): DingTalk and WeCom userids, and which
    channel first (sms, dingtalk, wecom; None: the first it can be reached on)."""

    wecom_userid: str | None = None
    dingtalk_userid: str | None = None
    preferred_channel: str | None = None

    quiet_hours: str | None = None  # HH:MM-HH:MM, local time

    def columns(self) -> dict[str, object]:
        """The users columns; InvalidInput for quiet hours that are not HH:MM-HH:MM."""
        return {
            "wecom_userid": self.wecom_userid or None,
            "dingtalk_userid": self.dingtalk_userid or None,
            "preferred_channel": self.preferred_channel or None,
            **quiet_columns(self.quiet_hours),
        }


def quiet_columns(value: str | None) -> dict[str, object]:
    """`quiet_start` and `quiet_end` of `HH:MM-HH:MM` (None or empty: no quiet hours)."""
    try:
        window = QuietHours.parse(value or "")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if window is None:
        return {"quiet_start": None, "quiet_end": None}
    return {"quiet_start": window.start, "quiet_end": window.end}


@dataclass(frozen=True, slots=True)
class Created:
    user_id: int
    otpauth_uri: str | None
    recovery_codes: tuple[str, ...]


async def create_user(
    *,
    session: AsyncSession,
    login: str,
    role: Role,
    password: str,
    policy: AccountPolicy,
    name: str = "",
    squad: str | None = None,
    jurisdiction: str | None = None,
    officer_number: str | None = None,
    phone: str | None = None,
    department: str = "",
    by: Principal | None = None,
    client: Client = CLI,
    must_change_password: bool = True,
    channels: ChannelIdentities | None = None,
) -> Created:
    """A new account that must change its password at first sign-in. InvalidInput for a
    bad login, scope or password; Conflict when the login or officer number is taken.
    Roles that need a second factor get a TOTP secret and recovery codes, returned once."""
    try:
        normal = model.normal_login(login)
        model.check_scope(role, squad=squad, jurisdiction=jurisdiction)
    except RuleBroken as exc:
        raise InvalidInput(str(exc)) from None
    _check_password(password, normal, policy)
    needs_totp = model.totp_required(role, policy.totp_roles)
    secret = pyotp.random_base32() if needs_totp else None
    vault = policy.vault() if secret else None
    try:
        async with session.begin_nested():
            user_id = await repository.insert_user(
                session,
                login=normal,
                full_name=name.strip(),
                officer_number=(officer_number or "").strip() or None,
                phone=phone,
                department=department,
                role=role.value,
                squad_code=squad,
                jurisdiction_code=jurisdiction,
                password_hash=_hasher().hash(password),
                password_change_required=must_change_password,
                totp_secret=None,
                **(channels or ChannelIdentities()).columns(),
            )
    except IntegrityError as exc:
        raise integrity_error(exc) from None
    if secret and vault:  # sealed with the account id, known only now
        await repository.update_user(
            session, user_id, totp_secret=vault.seal(secret, user_id=user_id)
        )
    codes = await _new_recovery_codes(session, user_id) if secret else ()
    await _record(
        session,
        "user_created",
        client,
        user=user_id,
        login=normal,
        role=role.value,
        squad=squad,
        jurisdiction=jurisdiction,
        by=_actor(by),
    )
    uri = (
        pyotp.TOTP(secret).provisioning_uri(name=normal, issuer_name=ISSUER_NAME)
        if secret
        else None
    )
    return Created(user_id, uri, codes)


def integrity_error(exc: IntegrityError) -> Exception:
    text = str(exc.orig)
    if "users_login" in text:
        return Conflict("this login is taken")
    if "users_officer_number" in text:
        return Conflict("another account has this officer number")
    if "squad_code" in text:
        return InvalidInput("unknown squad")
    if "jurisdiction_code" in text:
        return InvalidInput("unknown jurisdiction")
    return InvalidInput("the account cannot be stored as given")


def _check_password(password: str, login: str, policy: AccountPolicy) -> None:
    problems = model.password_problems(password, login=login, policy=policy.password)
    if problems:
        raise InvalidInput("the password must have " + "; ".join(problems))


async def _new_recovery_codes(session: AsyncSession, user_id: int) -> tuple[str, ...]:
    codes = tuple(f"{secrets.token_hex(4)}-{secrets.token_hex(4)}" for _ in range(RECOVERY_CODES))
    await repository.replace_recovery_codes(session, user_id, [hash_secret(c) for c in codes])
    return codes


async def _user(session: AsyncSession, login: str) -> UserRow:
    user = await repository.user_by_login(session, login.strip().lower())
    if user is None:
        raise NotFound(f"no account {login}")
    return user


async def account(*, session: AsyncSession, user_id: int) -> UserRow | None:
    return await repository.user_by_id(session, user_id)


async def disable_user(
    *, session: AsyncSession, login: str, by: Principal | None = None, client: Client = CLI
) -> UserRow:
    """Disable an account, end its sessions and revoke its tokens (its websockets close
    within the revocation poll). NotFound for an unknown login; Forbidden for oneself."""
    user = await _user(session, login)
    if by is not None and by.user_id == user.id:
        raise Forbidden("nobody may disable their own account")
    await repository.update_user(session, user.id, active=False)
    await repository.end_sessions_of(session, user.id, "disabled")
    await repository.revoke_tokens_of(session, user.id)
    await _record(session, "user_disabled", client, user=user.id, login=user.login, by=_actor(by))
    return user


async def reset_password(
    *, session: AsyncSession, login: str, by: Principal | None = None, client: Client = CLI
) -> str:
    """A new random password for the account, to be changed at its next sign-in; its
    sessions end. Returns the password (shown once)."""
    user = await _user(session, login)
    password = _random_password()
    await repository.update_user(
        session, user.id, password_hash=_hasher().hash(password), password_change_required=True
    )
    await repository.end_sessions_of(session, user.id, "password reset")
    await _record(session, "password_reset", client, user=user.id, login=user.login, by=_actor(by))
    return password


async def record_change(
    session: AsyncSession, client: Client, *, user: UserRow, by: Principal, **details: Any
) -> None:
    """`account.role_changed` when a role or scope changed, else `account.user_changed`
    (the changed field names, never their personal values)."""
    kind = "role_changed" if details.get("role") else "user_changed"
    await _record(session, kind, client, user=user.id, login=user.login, by=_actor(by), **details)


def new_password() -> str:
    return _random_password()


def _random_password() -> str:
    """16 characters of all four classes (never a common one)."""
    return f"{secrets.token_urlsafe(12)}-Aa1"


# --- signing in --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignedIn:
    cookie: str
    csrf_token: str
    user: UserRow


@dataclass(frozen=True, slots=True)
class Refused:
    message: str
    totp_required: bool = False
    retry_after: int | None = None


async def login(
    *,
    session: AsyncSession,
    login: str,
    password: str,
    totp: str | None,
    client: Client,
    now: datetime,
    policy: AccountPolicy,
) -> SignedIn | Refused:
    """Sign in. Refused with the same message (and the same Argon2 work) for an unknown
    login, a disabled account and a wrong password; with retry_after while the login or
    the address is locked (attempts then are not checked, so a lock says nothing of the
    account); with totp_required when the password was right but the code is missing."""
    key = login.strip().lower()[:64]
    wait = await _lock_wait(session, key, client.address, now, policy)
    if wait is not None:
        return Refused(f"too many failed sign-ins; try again in {wait} s", retry_after=wait)
    user = await repository.user_by_login(session, key)
    hashed = user.password_hash if user else _dummy_hash()
    right = _hasher().verify(password, hashed)
    if user is None or not user.active or not right:
        return await _failed(session, key, user, client, now, policy)
    if user.totp_secret:
        if not totp:
            return Refused("a second factor (TOTP code) is required", totp_required=True)
        if not await _second_factor(session, user, totp.strip(), policy):
            return await _failed(session, key, user, client, now, policy, totp_required=True)
    await repository.clear_failures(session, key)
    user = await _age_password(session, user, client, now, policy)
    cookie, csrf = await start_session(
        session=session, user=user, client=client, now=now, policy=policy
    )
    return SignedIn(cookie, csrf, user)


async def _lock_wait(
    session: AsyncSession, key: str, address: str, now: datetime, policy: AccountPolicy
) -> int | None:
    longest = max(
        policy.login_lock.window + policy.login_lock.lock,
        policy.address_lock.window + policy.address_lock.lock,
    )
    by_login, by_address = await repository.failures_since(
        session, login=key, address=address, since=now - longest
    )
    waits = [
        model.lock_wait(by_login, now=now, rule=policy.login_lock),
        model.lock_wait(by_address, now=now, rule=policy.address_lock),
    ]
    found = [wait for wait in waits if wait is not None]
    return max(found) if found else None


async def _failed(
    session: AsyncSession,
    key: str,
    user: UserRow | None,
    client: Client,
    now: datetime,
    policy: AccountPolicy,
    totp_required: bool = False,
) -> Refused:
    await repository.record_failure(session, login=key, address=client.address)
    # An unknown login is not written into the log: it may be a password typed there.
    named = {"user": user.id, "login": user.login} if user else {"user": None, "login": None}
    await _record(session, "sign_in_failed", client, **named)
    if await _lock_wait(session, key, client.address, now, policy) is not None:
        await _record(session, "locked", client, **named)
    return Refused(WRONG_CREDENTIALS, totp_required=totp_required)


async def _second_factor(
    session: AsyncSession, user: UserRow, code: str, policy: AccountPolicy
) -> bool:
    """A current TOTP code (RFC 6238, one step of clock skew either way) or an unused
    recovery code, which is used up. ConfigurationError when the sealing key is missing
    or is not the one (nor a previous one) that sealed the secret."""
    assert user.totp_secret
    try:
        secret = policy.vault().open(user.totp_secret, user_id=user.id)
    except VaultError as exc:
        raise ConfigurationError(f"{exc}: check TOTP_KEY and TOTP_KEY_PREVIOUS") from None
    if code.isdigit() and pyotp.TOTP(secret).verify(code, valid_window=1):
        return True
    return await repository.use_recovery_code(session, user.id, hash_secret(code))


async def _age_password(
    session: AsyncSession, user: UserRow, client: Client, now: datetime, policy: AccountPolicy
) -> UserRow:
    """A password older than PASSWORD_MAX_AGE_DAYS must be changed now (定期更换): the
    account is marked as after a reset, and the session gets only the change."""
    changed = user.password_changed_at
    if user.password_change_required or not model.password_expired(
        changed_at=changed, now=now, max_age=policy.password_max_age
    ):
        return user
    await repository.update_user(session, user.id, password_change_required=True)
    await _record(session, "password_expired", client, user=user.id, login=user.login)
    return replace(user, password_change_required=True)


async def start_session(
    *,
    session: AsyncSession,
    user: UserRow,
    client: Client,
    now: datetime,
    policy: AccountPolicy,
    method: str = "password",
) -> tuple[str, str]:
    """A new server-side session for an account that has proven who it is (by password
    here, or by a single sign-on callback): (cookie value, CSRF token). Only the SHA-256
    of the cookie value is stored. Always a new id: a session id is never taken over
    from the request (no fixation)."""
    cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    idle = policy.idle_squad if user.role == Role.SQUAD.value else policy.idle
    await repository.insert_session(
        session,
        session_id=hash_secret(cookie),
        user_id=user.id,
        csrf_token=csrf,
        idle_seconds=int(idle.total_seconds()),
        expires_at=now + policy.absolute,
        address=client.address,
        user_agent=client.user_agent[:200],
    )
    await _record(session, "signed_in", client, user=user.id, login=user.login, method=method)
    return cookie, csrf


@dataclass(frozen=True, slots=True)
class CurrentSession:
    principal: Principal
    csrf_token: str
    password_change_required: bool
    user: UserRow


async def resolve_session(
    *, session: AsyncSession, cookie: str, now: datetime
) -> CurrentSession | None:
    """The signed-in account of a session cookie, or None (unknown, ended, idle, past
    its absolute end, or its account disabled: an expired session is ended here)."""
    session_id = hash_secret(cookie)
    row = await repository.open_session(session, session_id)
    if row is None:
        return None
    deadline = model.session_deadline(
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        idle=timedelta(seconds=row.idle_seconds),
        absolute=row.expires_at - row.created_at,
    )
    if now >= deadline or not row.user.active:
        reason = "disabled" if not row.user.active else "timed out"
        await repository.end_session(session, session_id, reason)
        await _record(session, "session_ended", Client(), user=row.user.id, reason=reason)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        await repository.touch_session(session, session_id, now)
    principal = principal_of(
        row.user, credential=f"session:{session_id}", expires_at=row.expires_at
    )
    return CurrentSession(principal, row.csrf_token, row.user.password_change_required, row.user)


async def logout(*, session: AsyncSession, cookie: str, client: Client) -> bool:
    user_id = await repository.end_session(session, hash_secret(cookie), "signed out")
    if user_id is not None:
        await _record(session, "signed_out", client, user=user_id)
    return user_id is not None


async def change_password(
    *,
    session: AsyncSession,
    user_id: int,
    current: str,
    new: str,
    policy: AccountPolicy,
    client: Client,
) -> None:
    """InvalidInput when the current password is wrong or the new one breaks the policy
    or equals the current one."""
    user = await repository.user_by_id(session, user_id)
    if user is None or not _hasher().verify(current, user.password_hash):
        raise InvalidInput("the current password is wrong")
    if hmac.compare_digest(current.encode(), new.encode()):
        raise InvalidInput("the new password must differ from the current one")
    _check_password(new, user.login, policy)
    await repository.update_user(
        session,
        user.id,
        password_hash=_hasher().hash(new),
        password_change_required=False,
        password_changed_at=datetime.now(UTC),
    )
    await _record(session, "password_changed", client, user=user.id, login=user.login)


# --- tokens ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Minted:
    record: TokenRow
    token: str


def check_days(days: int, *, kind: str, policy: AccountPolicy) -> None:
    cap = policy.token_days_person if kind == "personal" else policy.token_days_device
    if not 1 <= days <= cap:
        raise InvalidInput(
            f"a {kind} token lives between 1 and {cap} days (the days given: {days})"
        )


async def mint_recorded(
    *,
    session: AsyncSession,
    key: str,
    kind: str,
    name: str,
    role: Role,
    days: int,
    policy: AccountPolicy,
    created_by: str,
    squad: str | None = None,
    jurisdiction: str | None = None,
    device: str | None = None,
    subject: str | None = None,
    user_id: int | None = None,
    client: Client = CLI,
    now: datetime | None = None,
) -> Minted:
    """Mint a token and store its record (never the token). InvalidInput when the
    lifetime is beyond the cap of its kind or the scope does not fit the role."""
    check_days(days, kind=kind, policy=policy)
    now = now or datetime.now(UTC)
    token_id = tokens.new_token_id()
    plain = tokens.mint(
        key=key,
        role=role,
        subject=subject,
        squad=squad,
        jurisdiction=jurisdiction,
        device=device,
        ttl=timedelta(days=days),
        now=now,
        token_id=token_id,
        user_id=user_id,
    )
    await repository.insert_token(
        session,
        id=token_id,
        kind=kind,
        name=name.strip() or kind,
        role=role.value,
        squad_code=squad,
        jurisdiction_code=jurisdiction,
        device=device,
        user_id=user_id,
        created_by=created_by,
        expires_at=now + timedelta(days=days),
    )
    await _record(
        session,
        "token_created",
        client,
        token=token_id,
        token_kind=kind,
        role=role.value,
        user=user_id,
        by=created_by,
    )
    record = await repository.token(session, token_id)
    assert record is not None
    return Minted(record, plain)


async def create_personal_token(
    *,
    session: AsyncSession,
    key: str,
    by: Principal,
    name: str,
    days: int,
    policy: AccountPolicy,
    client: Client,
) -> Minted:
    """A personal access token of a signed-in account, for its own role and scope."""
    if by.user_id is None:
        raise Forbidden("only a signed-in person creates personal access tokens")
    if by.role not in (Role.OPERATOR, Role.SQUAD, Role.GRID_WORKER, Role.SUPERVISOR, Role.ADMIN):
        raise Forbidden(f"the {by.role.value} role signs in; it holds no tokens")
    return await mint_recorded(
        session=session,
        key=key,
        kind="personal",
        name=name,
        role=by.role,
        days=days,
        policy=policy,
        created_by=by.subject,
        squad=by.squad,
        jurisdiction=by.jurisdiction,
        subject=by.subject,
        user_id=by.user_id,
        client=client,
    )


MANAGES_ANY_TOKEN = frozenset({Role.ADMIN, Role.SECURITY_ADMIN})


async def list_tokens(*, session: AsyncSession, by: Principal) -> list[TokenRow]:
    """An account's own tokens; every token for the admin and security_admin roles."""
    if by.role in MANAGES_ANY_TOKEN:
        return await repository.tokens(session, user_id=None)
    if by.user_id is None:
        raise Forbidden("only a signed-in person lists tokens")
    return await repository.tokens(session, user_id=by.user_id)


async def revoke_token(
    *, session: AsyncSession, token_id: str, by: Principal | None, client: Client = CLI
) -> TokenRow:
    """Revoke a token by its record id. NotFound when there is no such record or it is
    someone else's (the same answer, so ids cannot be probed); revoking twice is fine."""
    record = await repository.token(session, token_id)
    visible = record is not None and (
        by is None
        or by.role in MANAGES_ANY_TOKEN
        or (by.user_id is not None and record.user_id == by.user_id)
    )
    if record is None or not visible:
        raise NotFound(f"no token {token_id}")
    if await repository.revoke_token(session, token_id):
        await _record(
            session,
            "token_revoked",
            client,
            token=token_id,
            kind=record.kind,
            user=record.user_id,
            by=_actor(by),
        )
    return record


async def reseal_second_factors(*, session: AsyncSession, policy: AccountPolicy) -> int:
    """Seal again, with the current key, every TOTP secret sealed by a previous one (a key
    rotation: TOTP_KEY new, TOTP_KEY_PREVIOUS old). ConfigurationError, nothing changed,
    when some secret opens with none of the keys. Returns how many were sealed again."""
    vault = policy.vault()
    changed = 0
    for user_id, stored in await repository.second_factor_secrets(session):
        if not vault.needs_reseal(stored):
            continue
        try:
            plain = vault.open(stored, user_id=user_id)
        except VaultError as exc:
            raise ConfigurationError(f"account {user_id}: {exc}") from None
        await repository.update_user(
            session, user_id, totp_secret=vault.seal(plain, user_id=user_id)
        )
        changed += 1
    return changed


def otp_now(secret: str) -> str:
    """The current TOTP code of a secret (for the command line's own checks and tests)."""
    return pyotp.TOTP(secret).now()


def is_admin_role(role: Role) -> bool:
    return role in ADMIN_ROLES
