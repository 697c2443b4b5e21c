"""Single sign-on, the account side: the verified claims of the issuer name an account
(OIDC_ACCOUNT_CLAIM against OIDC_ACCOUNT_FIELD), which must exist and be active, and
whose role, if it needs two factors, must have had them at the issuer (`amr`). Then a
session starts through the accounts service (`account.signed_in`, method `oidc`).

Every refusal is an `account.sso_refused` event (reason, the account when known,
address, user agent; never a token or the claim's value). `sign_on` returns its refusal
instead of raising it, so that the caller commits the event before answering.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from command_center.accounts import service, sso_model, sso_repository
from command_center.accounts.model import totp_required
from command_center.accounts.repository import UserRow
from command_center.accounts.service import AccountPolicy, Client
from command_center.accounts.sso import SignOnFailed, Verified
from command_center.auth.model import Role
from command_center.errors import Conflict, InvalidInput
from command_center.realtime import outbox
from command_center.realtime.events import PendingEvent
from command_center.settings import Settings

NO_ACCOUNT = (
    "no active account of the command center matches your identity at the portal; "
    "ask the administrator to create one with your officer number"
)


@dataclass(frozen=True, slots=True)
class SignedOn:
    cookie: str
    csrf_token: str
    user: UserRow
    next_path: str
    created: bool


async def record_refusal(
    session: AsyncSession, failed: SignOnFailed, client: Client, user: UserRow | None = None
) -> None:
    data = {
        "reason": failed.reason,
        "user": user.id if user else None,
        "login": user.login if user else None,
        "address": client.address,
        "user_agent": client.user_agent[:200],
    }
    await outbox.record(session, [PendingEvent(type="account.sso_refused", data=data)])


async def sign_on(
    *,
    session: AsyncSession,
    verified: Verified,
    settings: Settings,
    client: Client,
    now: datetime,
    policy: AccountPolicy,
) -> SignedOn | SignOnFailed:
    """A session for the account the claims name; the refusal (recorded) otherwise:
    `no_claim`, `unknown_account`, `disabled`, `second_factor_missing`, `not_created`."""
    user: UserRow | None = None
    try:
        key = sso_model.account_key(
            verified.claims, verified.userinfo_claims, claim=settings.oidc_account_claim
        )
        user = await sso_repository.user_by_field(session, settings.oidc_account_field, key)
        created = False
        if user is None and settings.oidc_create_accounts:
            user, created = await _create(session, key, verified, settings, policy, client), True
        _check(user, verified, settings, policy)
    except sso_model.ClaimProblem as exc:
        failed = SignOnFailed("no_claim", str(exc))
    except SignOnFailed as exc:
        failed = exc
    else:
        assert user is not None
        cookie, csrf = await service.start_session(
            session=session, user=user, client=client, now=now, policy=policy, method="oidc"
        )
        return SignedOn(cookie, csrf, user, verified.next_path, created)
    await record_refusal(session, failed, client, user)
    return failed


def _check(
    user: UserRow | None, verified: Verified, settings: Settings, policy: AccountPolicy
) -> None:
    if user is None:
        raise SignOnFailed("unknown_account", NO_ACCOUNT)
    if not user.active:
        raise SignOnFailed(
            "disabled", "your account at the command center is disabled; ask the administrator"
        )
    needs_two = totp_required(Role(user.role), policy.totp_roles) or user.totp_secret
    if needs_two and not sso_model.second_factor_shown(
        verified.claims, settings.oidc_second_factor_amr
    ):
        raise SignOnFailed(
            "second_factor_missing",
            "your account needs two factors, and the portal reported only one; sign on at "
            "the portal with your certificate or code, or sign in here with password and code",
        )


async def _create(
    session: AsyncSession,
    key: str,
    verified: Verified,
    settings: Settings,
    policy: AccountPolicy,
    client: Client,
) -> UserRow:
    """An account for the claim value (OIDC_CREATE_ACCOUNTS): role OIDC_CREATED_ROLE, an
    unknown random password (it signs on only, until a password is reset for it)."""
    name = verified.claims.get("name", verified.userinfo_claims.get("name", ""))
    by_officer = settings.oidc_account_field == "officer_number"
    login = sso_model.created_login(key) if by_officer else key
    try:
        created = await service.create_user(
            session=session,
            login=login,
            role=Role(settings.oidc_created_role),
            password=f"{secrets.token_urlsafe(24)}-Aa1",
            policy=policy,
            name=name if isinstance(name, str) else "",
            officer_number=key if by_officer else None,
            jurisdiction=settings.oidc_created_jurisdiction,
            client=client,
            must_change_password=False,
        )
    except (InvalidInput, Conflict) as exc:
        raise SignOnFailed("not_created", f"no account could be created for you: {exc}") from None
    user = await service.account(session=session, user_id=created.user_id)
    assert user is not None
    return user
