"""`/auth/sso/…`: single sign-on through the configured OpenID Connect issuer (the
provincial identity platform, 统一身份认证). 404 while OIDC_ISSUER is unset.

`GET /auth/sso/login?next=` sends the browser to the issuer; `GET /auth/sso/callback`
is where the issuer sends it back: a session cookie and a 303 to `next` (a path of this
site only), or a page saying why not (401; 400 for a malformed answer; 503 when the
issuer cannot be reached)."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from command_center.accounts import service, sso_service
from command_center.accounts.model import safe_next
from command_center.accounts.signin import client_of, policy_of, secure_cookie, set_session_cookie
from command_center.accounts.sso import (
    TRANSACTION_COOKIE,
    TRANSACTION_PATH,
    TRANSACTION_SECONDS,
    OidcClient,
    SignOnFailed,
)
from command_center.auth.dependencies import SESSION_COOKIE
from command_center.errors import NotFound

router = APIRouter(tags=["accounts"])
NextQuery = Annotated[str | None, Query(max_length=2000)]
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _client(request: Request) -> OidcClient:
    sso: OidcClient | None = getattr(request.app.state, "sso", None)
    if sso is None:
        raise NotFound("single sign-on is not configured here (OIDC_ISSUER)")
    return sso


@router.get("/auth/sso/login", status_code=302, response_class=RedirectResponse)
async def sso_login(request: Request, next: NextQuery = None) -> Response:
    """To the issuer's sign-in, with state, nonce and a PKCE S256 challenge; `next` (a
    path of this site, else /console) is where the callback goes after."""
    sso = _client(request)
    try:
        started = await sso.start(next_path=safe_next(next))
    except SignOnFailed as failed:
        return _refusal_page(failed)
    response = RedirectResponse(started.url, status_code=302, headers=PAGE_HEADERS)
    response.set_cookie(
        TRANSACTION_COOKIE,
        started.cookie,
        max_age=TRANSACTION_SECONDS,
        path=TRANSACTION_PATH,
        httponly=True,
        samesite="lax",  # the issuer's redirect back is a top-level GET: the cookie comes along
        secure=secure_cookie(request, request.app.state.settings),
    )
    return response


@router.get("/auth/sso/callback", response_class=HTMLResponse, status_code=303)
async def sso_callback(request: Request) -> Response:
    """The issuer's answer: exchange the code, verify the ID token, find the account,
    start its session (the request's previous session ends: no fixation)."""
    sso = _client(request)
    client = client_of(request)
    query = {key: value[:4000] for key, value in request.query_params.items()}
    database = request.app.state.database
    try:
        verified = await sso.finish(cookie=request.cookies.get(TRANSACTION_COOKIE), query=query)
    except SignOnFailed as failed:
        async with database.transaction() as session:
            await sso_service.record_refusal(session, failed, client)
        return _refusal_page(failed)
    async with database.transaction() as session:
        previous = request.cookies.get(SESSION_COOKIE)
        if previous:
            await service.logout(session=session, cookie=previous, client=client)
        outcome = await sso_service.sign_on(
            session=session,
            verified=verified,
            settings=request.app.state.settings,
            client=client,
            now=datetime.now(UTC),
            policy=policy_of(request),
        )
    if isinstance(outcome, SignOnFailed):
        return _refusal_page(outcome)
    target = outcome.next_path
    if outcome.user.password_change_required:
        target = f"/login/password?next={quote(target)}"
    response = RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)
    response.delete_cookie(TRANSACTION_COOKIE, path=TRANSACTION_PATH)
    set_session_cookie(response, request, outcome.cookie)
    return response


def _refusal_page(failed: SignOnFailed) -> HTMLResponse:
    body = (
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>统一身份认证未通过 · sign-on refused</title>"
        '<main class="gate"><h1>统一身份认证未通过</h1>'
        f'<p id="problem" data-reason="{escape(failed.reason)}" role="alert">'
        f"{escape(failed.message)}</p>"
        '<p><a href="/login">返回登录页 · back to sign-in</a></p></main></html>'
    )
    response = HTMLResponse(body, status_code=failed.status, headers=PAGE_HEADERS)
    response.delete_cookie(TRANSACTION_COOKIE, path=TRANSACTION_PATH)
    return response
