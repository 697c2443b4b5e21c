"""`/auth/…` (sign in and out, who am I, change the password), `/api/v1/tokens`
(personal access tokens: create, list, revoke) and `/api/v1/users` (accounts, as the
three administrator duties allow: accounts/users.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from command_center.accounts import service, users
from command_center.accounts.schemas import (
    AccountCreated,
    AccountIn,
    AccountOut,
    AccountPatch,
    LoginIn,
    LoginOut,
    MeOut,
    PasswordIn,
    PasswordOut,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserOut,
)
from command_center.accounts.service import ChannelIdentities
from command_center.accounts.signin import (
    clear_cookies,
    client_of,
    policy_of,
    set_session_cookie,
    sign_in,
)
from command_center.auth.dependencies import SESSION_COOKIE, CurrentPrincipal
from command_center.auth.model import Role
from command_center.errors import Forbidden, InvalidInput

router = APIRouter(tags=["accounts"])

REFUSED: dict[int | str, dict[str, Any]] = {
    401: {"description": "wrong login or password, or a second factor is needed"}
}


def refusal(refused: service.Refused) -> JSONResponse:
    """401 `{"detail", "totp_required"?}`, or 429 with Retry-After while locked."""
    if refused.retry_after is not None:
        return JSONResponse(
            {"error": "rate_limited", "detail": refused.message},
            status_code=429,
            headers={"Retry-After": str(refused.retry_after)},
        )
    body: dict[str, object] = {"error": "unauthenticated", "detail": refused.message}
    if refused.totp_required:
        body["totp_required"] = True
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Session"})


@router.post("/auth/login", response_model=LoginOut, responses=REFUSED)
async def login(body: LoginIn, request: Request) -> Response:
    """Sign in: a session cookie and the CSRF token that unsafe requests must send back."""
    outcome = await sign_in(request, username=body.username, password=body.password, totp=body.totp)
    if isinstance(outcome, service.Refused):
        return refusal(outcome)
    answer = LoginOut(
        csrf_token=outcome.csrf_token,
        user=UserOut.of(outcome.user),
        password_change_required=outcome.user.password_change_required,
    )
    response = JSONResponse(answer.model_dump())
    set_session_cookie(response, request, outcome.cookie)
    return response


@router.get("/auth/me", response_model=MeOut)
async def me(request: Request, by: CurrentPrincipal) -> MeOut:
    """Who is signed in (or whose token this is)."""
    if by.user_id is not None:
        async with request.app.state.database.sessions() as session:
            user = await service.account(session=session, user_id=by.user_id)
        if user is not None:
            base = UserOut.of(user)
            return MeOut(
                **base.model_dump(), password_change_required=user.password_change_required
            )
    return MeOut(
        login=by.subject, name="", role=by.role.value, squad=by.squad, jurisdiction=by.jurisdiction
    )


@router.post("/auth/password", response_model=PasswordOut)
async def change_password(body: PasswordIn, request: Request, by: CurrentPrincipal) -> PasswordOut:
    """Change one's own password (required after the first sign-in and after a reset)."""
    if by.user_id is None:
        raise Forbidden("only a signed-in person has a password")
    async with request.app.state.database.transaction() as session:
        await service.change_password(
            session=session,
            user_id=by.user_id,
            current=body.current_password,
            new=body.new_password,
            policy=policy_of(request),
            client=client_of(request),
        )
    return PasswordOut(password_change_required=False)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(request: Request, by: CurrentPrincipal) -> Response:
    """End this session (its websockets close within about a second)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        async with request.app.state.database.transaction() as session:
            await service.logout(session=session, cookie=cookie, client=client_of(request))
        await request.app.state.revocations.announce()
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_cookies(response)
    return response


@router.post("/api/v1/tokens", response_model=TokenCreated, status_code=201)
async def create_token(body: TokenIn, request: Request, by: CurrentPrincipal) -> TokenCreated:
    """A personal access token for one's own role and scope; the token is shown once."""
    async with request.app.state.database.transaction() as session:
        minted = await service.create_personal_token(
            session=session,
            key=request.app.state.signing_key,
            by=by,
            name=body.name,
            days=body.expires_in_days,
            policy=policy_of(request),
            client=client_of(request),
        )
    return TokenCreated(**TokenOut.of(minted.record).model_dump(), token=minted.token)


@router.get("/api/v1/tokens", response_model=list[TokenOut])
async def list_tokens(request: Request, by: CurrentPrincipal) -> list[TokenOut]:
    """One's own tokens (admin and security_admin: everyone's); never the tokens."""
    async with request.app.state.database.sessions() as session:
        rows = await service.list_tokens(session=session, by=by)
    return [TokenOut.of(row) for row in rows]


@router.delete("/api/v1/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(token_id: str, request: Request, by: CurrentPrincipal) -> Response:
    """Revoke a token: its requests answer 401 and its websockets close within ~1 s."""
    async with request.app.state.database.transaction() as session:
        await service.revoke_token(
            session=session, token_id=token_id[:64], by=by, client=client_of(request)
        )
    await request.app.state.revocations.announce()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/api/v1/users", response_model=list[AccountOut])
async def list_users(request: Request, by: CurrentPrincipal) -> list[AccountOut]:
    """Every account (admin, security_admin); phones masked."""
    async with request.app.state.database.sessions() as session:
        rows = await users.listing(session=session, by=by)
    return [AccountOut.of(row) for row in rows]


@router.post("/api/v1/users", response_model=AccountCreated, status_code=201)
async def create_user(body: AccountIn, request: Request, by: CurrentPrincipal) -> AccountCreated:
    """A new account of a working role (admin); its first password is in this answer only
    and must be changed at the first sign-in."""
    try:
        role = Role(body.role)
    except ValueError:
        raise InvalidInput(f"unknown role {body.role}") from None
    async with request.app.state.database.transaction() as session:
        made = await users.create(
            session=session,
            by=by,
            policy=policy_of(request),
            client=client_of(request),
            login=body.login,
            role=role,
            name=body.name,
            squad=body.squad,
            jurisdiction=body.jurisdiction,
            officer_number=body.officer_number,
            phone=body.phone,
            department=body.department,
            channels=ChannelIdentities(
                wecom_userid=body.wecom_userid,
                dingtalk_userid=body.dingtalk_userid,
                preferred_channel=body.preferred_channel,
                quiet_hours=body.quiet_hours,
            ),
        )
    return AccountCreated(**AccountOut.of(made.user).model_dump(), password=made.password)


@router.patch("/api/v1/users/{login}", response_model=AccountOut)
async def change_user(
    login: str, body: AccountPatch, request: Request, by: CurrentPrincipal
) -> AccountOut:
    """Edit details (admin), role and scope (security_admin), or `{"active": false}`;
    a role, scope or disabling ends the account's sessions, tokens and websockets."""
    async with request.app.state.database.transaction() as session:
        user, ended = await users.change(
            session=session,
            by=by,
            login=login[:64],
            changes=body.changes(),
            client=client_of(request),
        )
    if ended:
        await request.app.state.revocations.announce()
    return AccountOut.of(user)
