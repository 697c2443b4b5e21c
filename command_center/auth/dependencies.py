"""The one principal resolver, for HTTP and websockets: a bearer token (header, or the
`token` query parameter spelled exactly so), a kiosk's token kept in a cookie, or a
signed-in session's cookie.

A request authenticated by a cookie that changes something (any method but GET, HEAD,
OPTIONS) must carry the session's CSRF token in `X-CSRF-Token` (or a `csrf_token` form
field): 403 otherwise. A websocket authenticated by a cookie must come from a page of
this site (its Origin header): 4403 otherwise. A token or session that was revoked,
ended or belongs to a disabled account answers 401 (see accounts/revocations.py); while
an account must change its password, every request but the password change, /auth/me
and sign-out answers 403 saying so.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import unquote_plus, urlsplit

from fastapi import Depends, Request, WebSocket
from starlette.requests import HTTPConnection

from command_center.accounts import service as accounts
from command_center.accounts.revocations import Revocations
from command_center.auth import tokens
from command_center.auth.model import Principal, Role
from command_center.errors import Forbidden, Unauthenticated
from command_center.settings import Settings

SESSION_COOKIE = "cc_session"
TOKEN_COOKIE = "cc_token"  # noqa: S105 (a name) — a kiosk's token, moved out of its page's address
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Reachable while a password change is required (the rest answers 403).
DURING_PASSWORD_CHANGE = frozenset(
    {"/auth/password", "/auth/me", "/auth/logout", "/login", "/login/password"}
)
CHANGE_FIRST_MESSAGE = "the password must be changed first (POST /auth/password)"


class PasswordChangeRequired(Forbidden):
    code = "password_change_required"


def query_token(query_string: bytes | str) -> str | None:
    """The value of the query parameter whose name is exactly `token` as sent: neither
    `tok%65n` nor `TOKEN` (one documented name, so nothing slips past log redaction)."""
    raw = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    for pair in raw.split("&"):
        name, sep, value = pair.partition("=")
        if sep and name == "token" and value:
            return unquote_plus(value)
    return None


def bearer_token(authorization: str | None, query_value: str | None) -> str | None:
    """The token from `Authorization: Bearer …`, else `query_value` (see query_token)."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return query_value or None


def kiosk_csrf(signing_key: str, token: str) -> str:
    """The CSRF token of a kiosk page whose token sits in a cookie (derived, not stored)."""
    digest = hmac.new(signing_key.encode(), b"csrf:" + token.encode(), hashlib.sha256)
    return digest.hexdigest()


def check_token(
    token: str,
    *,
    signing_key: str,
    revocations: Revocations | None,
    settings: Settings,
    allow_device: bool = False,
) -> Principal:
    """The principal of a good token: signed here, unexpired, not revoked, its account
    active; a token of the previous release (no record id) only while
    LEGACY_TOKENS_UNTIL lies ahead. Unauthenticated otherwise."""
    principal = tokens.verify(token, key=signing_key, allow_device=allow_device)
    if principal.credential is None:
        until = settings.legacy_tokens_until
        if until is None or datetime.now(UTC) >= until.astimezone(UTC):
            raise Unauthenticated(
                "tokens of the previous release are no longer accepted; ask for a new one"
            )
    if revocations is not None and (reason := revocations.refused(principal)):
        raise Unauthenticated(reason)
    return principal


def _state_revocations(connection: HTTPConnection) -> Revocations | None:
    return getattr(connection.app.state, "revocations", None)


async def _from_session(connection: HTTPConnection, cookie: str) -> accounts.CurrentSession:
    database = connection.app.state.database
    async with database.transaction() as session:
        current = await accounts.resolve_session(
            session=session, cookie=cookie, now=datetime.now(UTC)
        )
    if current is None:
        raise Unauthenticated("the session has ended; sign in again")
    return current


async def _csrf_sent(request: Request) -> str | None:
    sent = request.headers.get(CSRF_HEADER)
    if sent:
        return sent
    kind = request.headers.get("content-type", "")
    if kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # cached by Starlette for the endpoint
        value = form.get(CSRF_FIELD)
        return value if isinstance(value, str) else None
    return None


async def resolve(connection: HTTPConnection, *, allow_device: bool = False) -> Principal:
    """The principal of a request or websocket; Unauthenticated or Forbidden."""
    principal, _ = await resolve_with_csrf(connection, allow_device=allow_device)
    return principal


async def resolve_with_csrf(
    connection: HTTPConnection, *, allow_device: bool = False
) -> tuple[Principal, str | None]:
    """The principal, and the CSRF token a page of it must send back (None for a bearer
    token, which a browser never sends by itself)."""
    state = connection.app.state
    settings: Settings = state.settings
    token = bearer_token(
        connection.headers.get("authorization"), query_token(connection.scope["query_string"])
    )
    if token is not None:
        principal = check_token(
            token,
            signing_key=state.signing_key,
            revocations=_state_revocations(connection),
            settings=settings,
            allow_device=allow_device,
        )
        return principal, None
    cookies: Mapping[str, str] = connection.cookies
    session_cookie, kiosk_token = cookies.get(SESSION_COOKIE), cookies.get(TOKEN_COOKIE)
    if not session_cookie and not kiosk_token:
        raise Unauthenticated("sign in, or send a bearer token")
    if isinstance(connection, WebSocket):
        _check_origin(connection)
    if session_cookie:
        current = await _from_session(connection, session_cookie)
        principal, expected_csrf = current.principal, current.csrf_token
        if current.password_change_required and connection.url.path not in DURING_PASSWORD_CHANGE:
            raise PasswordChangeRequired(CHANGE_FIRST_MESSAGE)
    else:
        assert kiosk_token
        principal = check_token(
            kiosk_token,
            signing_key=state.signing_key,
            revocations=_state_revocations(connection),
            settings=settings,
            allow_device=allow_device,
        )
        expected_csrf = kiosk_csrf(state.signing_key, kiosk_token)
    if isinstance(connection, Request) and connection.method not in SAFE_METHODS:
        sent = await _csrf_sent(connection)
        if not sent or not hmac.compare_digest(sent.encode(), expected_csrf.encode()):
            raise Forbidden("a signed-in request that changes something needs X-CSRF-Token")
    return principal, expected_csrf


def _check_origin(websocket: WebSocket) -> None:
    """A cookie-authenticated websocket only from a page of this site (the browser sends
    cookies to /ws whichever site opened it)."""
    origin = websocket.headers.get("origin")
    host = websocket.headers.get("host", "")
    public = urlsplit(websocket.app.state.settings.public_base_url).netloc
    if origin is None or urlsplit(origin).netloc not in {host, public}:
        raise Forbidden("a signed-in websocket must come from a page of this site")


async def principal_from_request(request: Request) -> Principal:
    return await resolve(request)


CurrentPrincipal = Annotated[Principal, Depends(principal_from_request)]


def require_roles(*roles: Role) -> object:
    """A dependency that lets only `roles` through (403 otherwise)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if principal.role not in roles:
            allowed = ", ".join(r.value for r in roles)
            raise Forbidden(f"this needs one of the roles: {allowed}")
        return principal

    return Depends(check)
