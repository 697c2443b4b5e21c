"""Managing accounts over the API, as the three separated duties allow (三员分立):

- `admin` (user.manage) creates accounts of the working roles, lists them, edits names,
  numbers, phones and departments, and disables or re-enables them;
- `security_admin` (role.manage, scope.manage) changes roles and scopes, the three
  administrator roles included, and disables or re-enables accounts (locks);
- nobody changes their own role, scope or state.

A role or scope change ends the account's sessions and revokes its tokens, so that no
credential keeps the old scope. Every change is an `account.*` event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from command_center.accounts import model, repository, service
from command_center.accounts.model import ADMIN_ROLES, RuleBroken
from command_center.accounts.repository import UserRow
from command_center.accounts.service import AccountPolicy, Client
from command_center.auth.model import Principal, Role
from command_center.errors import Forbidden, InvalidInput, NotFound

EDITS_PEOPLE = frozenset({Role.ADMIN})
EDITS_ROLES = frozenset({Role.SECURITY_ADMIN})
SEES_ACCOUNTS = EDITS_PEOPLE | EDITS_ROLES
DETAILS = (
    "full_name",
    "officer_number",
    "phone",
    "department",
    "wecom_userid",
    "dingtalk_userid",
    "preferred_channel",
    "quiet_hours",
)


def _check_may_see(by: Principal) -> None:
    if by.role not in SEES_ACCOUNTS:
        raise Forbidden("accounts are managed by admin and security_admin")


async def listing(*, session: AsyncSession, by: Principal) -> list[UserRow]:
    _check_may_see(by)
    return await repository.list_users(session)


@dataclass(frozen=True, slots=True)
class NewAccount:
    user: UserRow
    password: str


async def create(
    *,
    session: AsyncSession,
    by: Principal,
    policy: AccountPolicy,
    client: Client,
    login: str,
    role: Role,
    name: str,
    squad: str | None,
    jurisdiction: str | None,
    officer_number: str | None,
    phone: str | None,
    department: str,
    channels: service.ChannelIdentities | None = None,
) -> NewAccount:
    """An account with a generated password (returned once, to be changed at the first
    sign-in). Only `admin` creates, and only accounts of the working roles: the three
    administrator accounts come from the command line or a security_admin's role change."""
    if by.role not in EDITS_PEOPLE:
        raise Forbidden("accounts are created by admin")
    if role in ADMIN_ROLES:
        raise Forbidden("administrator accounts are made by security_admin (三员分立)")
    password = service.new_password()
    created = await service.create_user(
        session=session,
        login=login,
        role=role,
        password=password,
        policy=policy,
        name=name,
        squad=squad,
        jurisdiction=jurisdiction,
        officer_number=officer_number,
        phone=phone,
        department=department,
        by=by,
        client=client,
        channels=channels,
    )
    user = await repository.user_by_id(session, created.user_id)
    assert user is not None
    return NewAccount(user, password)


async def change(
    *, session: AsyncSession, by: Principal, login: str, changes: dict[str, Any], client: Client
) -> tuple[UserRow, bool]:
    """Apply `changes` (details, `active`, `role`, `squad`, `jurisdiction`); the account
    and whether its credentials were ended. Forbidden for what the caller's duty does not
    cover or for oneself; InvalidInput for a scope that does not fit the role."""
    _check_may_see(by)
    user = await repository.user_by_login(session, login.strip().lower())
    if user is None:
        raise NotFound(f"no account {login}")
    scope_keys = {"role", "squad", "jurisdiction"} & changes.keys()
    if scope_keys and by.role not in EDITS_ROLES:
        raise Forbidden("roles and scopes are changed by security_admin (三员分立)")
    if set(DETAILS) & changes.keys() and by.role not in EDITS_PEOPLE:
        raise Forbidden("names, numbers and phones are edited by admin")
    try:
        if scope_keys or "active" in changes:
            model.check_role_change(actor_id=by.user_id, target_id=user.id)
        role = Role(changes.get("role", user.role))
        squad = changes.get("squad", user.squad_code)
        jurisdiction = changes.get("jurisdiction", user.jurisdiction_code)
        model.check_scope(role, squad=squad, jurisdiction=jurisdiction)
    except RuleBroken as exc:
        raise (Forbidden if "own" in str(exc) else InvalidInput)(str(exc)) from None
    except ValueError:
        raise InvalidInput(f"unknown role {changes.get('role')}") from None
    columns: dict[str, Any] = {key: changes[key] for key in DETAILS if key in changes}
    if "quiet_hours" in columns:
        columns |= service.quiet_columns(columns.pop("quiet_hours"))
    if scope_keys:
        columns |= {"role": role.value, "squad_code": squad, "jurisdiction_code": jurisdiction}
    if "active" in changes:
        columns["active"] = bool(changes["active"])
    ends = bool(scope_keys) or changes.get("active") is False
    try:
        async with session.begin_nested():
            if columns:
                await repository.update_user(session, user.id, **columns)
    except IntegrityError as exc:
        raise service.integrity_error(exc) from None
    if ends:
        await repository.end_sessions_of(session, user.id, "role or state changed")
        await repository.revoke_tokens_of(session, user.id)
    await service.record_change(
        session,
        client,
        user=user,
        by=by,
        changed=sorted(changes),
        role=role.value if scope_keys else None,
        squad=squad if scope_keys else None,
        jurisdiction=jurisdiction if scope_keys else None,
        active=columns.get("active"),
    )
    updated = await repository.user_by_id(session, user.id)
    assert updated is not None
    return updated, ends
