"""Signing in over HTTP, shared by `POST /auth/login` (JSON) and the `/login` page's form:
one transaction that checks the lock, the password and the second factor, ends the
request's previous session (a new id every time: no fixation) and starts a new one; and
the session cookie (HttpOnly, SameSite=Lax, Secure over HTTPS)."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response

from command_center.accounts import service
from command_center.accounts.service import AccountPolicy, Client, Refused, SignedIn
from command_center.auth.dependencies import SESSION_COOKIE, TOKEN_COOKIE
from command_center.settings import Settings


def client_of(request: Request) -> Client:
    address = request.client.host if request.client else ""
    return Client(address=address, user_agent=request.headers.get("user-agent", ""))


def policy_of(request: Request) -> AccountPolicy:
    return AccountPolicy.from_settings(request.app.state.settings)


async def sign_in(
    request: Request, *, username: str, password: str, totp: str | None
) -> SignedIn | Refused:
    """The failure is committed before the refusal is returned (the lock counts it)."""
    database = request.app.state.database
    client = client_of(request)
    async with database.transaction() as session:
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:
            await service.logout(session=session, cookie=previous, client=client)
        return await service.login(
            session=session,
            login=username,
            password=password,
            totp=totp,
            client=client,
            now=datetime.now(UTC),
            policy=policy_of(request),
        )


async def change_own_password(request: Request, *, user_id: int, current: str, new: str) -> None:
    """InvalidInput when the current password is wrong or the new one breaks the policy."""
    async with request.app.state.database.transaction() as session:
        await service.change_password(
            session=session,
            user_id=user_id,
            current=current,
            new=new,
            policy=policy_of(request),
            client=client_of(request),
        )


def secure_cookie(request: Request, settings: Settings) -> bool:
    return settings.session_cookie_secure == "always" or request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, cookie: str) -> None:
    settings: Settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(settings.session_absolute_hours * 3600),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookie(request, settings),
    )


def set_token_cookie(response: Response, request: Request, token: str) -> None:
    """A kiosk's token, kept out of its address bar (and so out of access logs)."""
    settings: Settings = request.app.state.settings
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        max_age=int(settings.token_max_days_device * 86400),
        path="/",
        httponly=True,
        samesite="lax",
        secure=secure_cookie(request, settings),
    )


def clear_cookies(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")
    response.delete_cookie(TOKEN_COOKIE, path="/")
