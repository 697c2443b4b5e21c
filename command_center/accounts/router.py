"""`/auth/…` (sign in and out, who am I, change the password) and `/api/v1/tokens`
(personal access tokens: create, list, revoke)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import JSONResponse

from command_center.accounts import service
from command_center.accounts.schemas import (
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
from command_center.accounts.signin import (
    clear_cookies,
    client_of,
    policy_of,
    set_session_cookie,
    sign_in,
)
from command_center.auth.dependencies import SESSION_COOKIE, CurrentPrincipal
from command_center.errors import Forbidden

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
