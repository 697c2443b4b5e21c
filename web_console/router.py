"""`/console/…`: the wall screen, the dispatcher desk, the squad phone and the resident
page, with their scripts, styles and the vendored map library, all served from here.

The pages hold no data: their scripts read the JSON endpoints and the websockets with
the signed-in session's cookie. A visit without one is sent to `/login?next=…`. A wall
screen or device that opens a page with `?token=…` (to start unattended) gets the token
moved into an HttpOnly cookie and is redirected to the address without it, so that the
token leaves the address bar, the history and every later access log line. A page
checks its caller's role before it is shown.

`/login` is the sign-in page (its form posts back to it); `/login/password` the forced
password change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from command_center.accounts.model import safe_next
from command_center.accounts.service import Refused
from command_center.accounts.signin import (
    change_own_password,
    set_session_cookie,
    set_token_cookie,
    sign_in,
)
from command_center.auth.dependencies import (
    PasswordChangeRequired,
    check_token,
    query_token,
    resolve_with_csrf,
)
from command_center.errors import InvalidInput, Unauthenticated
from command_center.settings import Settings
from web_console.assets import FOLIUM_TEMPLATES_DIR, LEAFLET_DIR, VENDOR_URL
from web_console.i18n import Lang, pick_lang
from web_console.maps import Tiles
from web_console.pages import (
    PAGES,
    Page,
    page_map,
    render,
    render_gate,
    render_index,
    render_login,
    render_password,
    security_headers,
)

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(prefix="/console", include_in_schema=False)
signin_router = APIRouter(include_in_schema=False)

LangQuery = Annotated[str | None, Query(max_length=10)]
NextQuery = Annotated[str | None, Query(max_length=2000)]


def tiles_of(settings: Settings) -> Tiles:
    return Tiles(
        url=settings.map_tile_url,
        crs=settings.map_tile_crs,
        attribution=settings.map_tile_attribution,
        subdomains=settings.map_tile_subdomains,
        max_zoom=settings.map_tile_max_zoom,
    )


async def _page(request: Request, name: str, lang_text: str | None) -> Response:
    page, lang = PAGES[name], pick_lang(lang_text)
    settings: Settings = request.app.state.settings
    tiles = tiles_of(settings)
    headers = security_headers(tiles)
    principal, csrf = None, None
    if page.roles is not None:
        token = query_token(request.scope["query_string"])
        if token is not None:
            return _keep_token_in_cookie(request, page, lang, token, headers)
        try:
            principal, csrf = await resolve_with_csrf(request)
        except PasswordChangeRequired:
            return _redirect(_sign_in_address(request, "/login/password", lang_text), headers)
        except Unauthenticated:
            return _redirect(_sign_in_address(request, "/login", lang_text), headers)
        if principal.role not in page.roles:
            body = render_gate(page, lang=lang, problem="wrong_role", role=principal.role)
            return HTMLResponse(body, status_code=403, headers=headers)
    body = render(
        page, lang=lang, tiles=tiles, principal=principal, zone=settings.timezone, csrf=csrf
    )
    return HTMLResponse(body, headers=headers)


def _sign_in_address(request: Request, path: str, lang: str | None) -> str:
    language = f"&lang={quote(lang)}" if lang else ""
    return f"{path}?next={quote(_here(request))}{language}"


def _here(request: Request) -> str:
    query = "&".join(
        part
        for part in request.scope["query_string"].decode("latin-1").split("&")
        if part and not part.startswith("token=")
    )
    return request.url.path + (f"?{query}" if query else "")


def _redirect(target: str, headers: dict[str, str]) -> Response:
    return RedirectResponse(target, status_code=303, headers=headers)


def _keep_token_in_cookie(
    request: Request, page: Page, lang: Lang, token: str, headers: dict[str, str]
) -> Response:
    """A good token goes into a cookie, the page to its address without it; a bad one
    gets the page's gate (401), and no cookie."""
    state = request.app.state
    try:
        check_token(
            token,
            signing_key=state.signing_key,
            revocations=getattr(state, "revocations", None),
            settings=state.settings,
        )
    except Unauthenticated:
        body = render_gate(page, lang=lang, problem="token_invalid", role=None)
        return HTMLResponse(body, status_code=401, headers=headers)
    response = _redirect(_here(request), headers)
    set_token_cookie(response, request, token)
    return response


@router.get("", response_class=HTMLResponse)
async def index(request: Request, lang: LangQuery = None) -> HTMLResponse:
    """Links to the four consoles."""
    headers = security_headers(tiles_of(request.app.state.settings))
    return HTMLResponse(render_index(lang=pick_lang(lang)), headers=headers)


@router.get("/wall", response_class=HTMLResponse)
async def wall(request: Request, lang: LangQuery = None) -> Response:
    """The wall screen (operators, supervisors, admins): the live map and today's figures."""
    return await _page(request, "wall", lang)


@router.get("/dispatch", response_class=HTMLResponse)
async def dispatch(request: Request, lang: LangQuery = None) -> Response:
    """The dispatcher desk (operators, admins): the queue, suggested squads, decisions."""
    return await _page(request, "dispatch", lang)


@router.get("/squad", response_class=HTMLResponse)
async def squad(request: Request, lang: LangQuery = None) -> Response:
    """The squad phone (a squad member signed in): assignments as they come, accept … handle."""
    return await _page(request, "squad", lang)


@router.get("/report", response_class=HTMLResponse)
async def report(request: Request, lang: LangQuery = None) -> Response:
    """The resident page (what the mini-program shows): send a tip, follow it by code."""
    return await _page(request, "report", lang)


def _login_page(
    request: Request, lang: Lang, next_path: str, status: int = 200, **kwargs: Any
) -> HTMLResponse:
    sso = request.app.state.settings.oidc_issuer is not None
    body = render_login(lang=lang, next_path=next_path, sso=sso, **kwargs)
    return HTMLResponse(body, status_code=status, headers=_headers(request))


def _headers(request: Request) -> dict[str, str]:
    return security_headers(tiles_of(request.app.state.settings))


@signin_router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, lang: LangQuery = None, next: NextQuery = None
) -> HTMLResponse:
    """The sign-in page; `next` (a path of this site only) is where it goes after."""
    return _login_page(request, pick_lang(lang), safe_next(next))


@signin_router.post("/login", response_class=HTMLResponse)
async def login_form(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    totp: Annotated[str | None, Form(max_length=32)] = None,
    next: Annotated[str | None, Form(max_length=2000)] = None,
    lang: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """The sign-in form: 303 to `next` with the session cookie, or the page again with
    what went wrong (401, 429 while locked)."""
    language, target = pick_lang(lang), safe_next(next)
    outcome = await sign_in(request, username=username, password=password, totp=totp or None)
    if isinstance(outcome, Refused):
        if outcome.retry_after is not None:
            page = _login_page(request, language, target, 429, problem="locked_out")
            page.headers["Retry-After"] = str(outcome.retry_after)
            return page
        problem = "totp_needed" if outcome.totp_required and not totp else "wrong_credentials"
        return _login_page(
            request,
            language,
            target,
            401,
            problem=problem,
            username=username,
            totp=outcome.totp_required,
        )
    if outcome.user.password_change_required:
        body = render_password(lang=language, next_path=target, csrf=outcome.csrf_token)
        response: Response = HTMLResponse(body, headers=_headers(request))
    else:
        response = _redirect(target, _headers(request))
    set_session_cookie(response, request, outcome.cookie)
    return response


@signin_router.get("/login/password", response_class=HTMLResponse)
async def password_page(
    request: Request, lang: LangQuery = None, next: NextQuery = None
) -> Response:
    """The forced password change, for a signed-in session that must change it."""
    language, target = pick_lang(lang), safe_next(next)
    try:
        _, csrf = await resolve_with_csrf(request)
    except Unauthenticated:
        return _redirect(f"/login?next={quote(target)}", _headers(request))
    body = render_password(lang=language, next_path=target, csrf=csrf or "")
    return HTMLResponse(body, headers=_headers(request))


@signin_router.post("/login/password", response_class=HTMLResponse)
async def password_form(
    request: Request,
    current_password: Annotated[str, Form(max_length=256)],
    new_password: Annotated[str, Form(max_length=256)],
    next: Annotated[str | None, Form(max_length=2000)] = None,
    lang: Annotated[str | None, Form(max_length=10)] = None,
) -> Response:
    """Change the password (the form carries the CSRF token), then 303 to `next`."""
    language, target = pick_lang(lang), safe_next(next)
    try:
        principal, csrf = await resolve_with_csrf(request)
    except Unauthenticated:
        return _redirect(f"/login?next={quote(target)}", _headers(request))
    if principal.user_id is None:
        return _redirect(target, _headers(request))
    try:
        await change_own_password(
            request, user_id=principal.user_id, current=current_password, new=new_password
        )
    except InvalidInput as exc:
        body = render_password(
            lang=language, next_path=target, csrf=csrf or "", problem=exc.message
        )
        return HTMLResponse(body, status_code=400, headers=_headers(request))
    return _redirect(target, _headers(request))


@router.get("/map/{name}.js")
async def map_script(name: str, request: Request, lang: LangQuery = None) -> Response:
    """A page's map script (folium's, built once per page and language): a file, since
    the CSP allows no inline script. Holds nothing scoped to a token."""
    page = PAGES.get(name)
    if page is None:
        return Response("unknown page", status_code=404, media_type="text/plain")
    parts = page_map(page, tiles_of(request.app.state.settings), pick_lang(lang))
    cache = {"Cache-Control": "public, max-age=86400"}
    return Response(parts.script, media_type="text/javascript; charset=utf-8", headers=cache)


async def favicon() -> FileResponse:
    """`/favicon.ico`, which browsers ask of every page (/track, /docs, …): the consoles'
    shield (static/icon.svg) as a 16–64 px ICO."""
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon", headers=headers)


def install(app: FastAPI) -> None:
    """Serve the consoles, their static files, the vendored map library and the favicon."""
    app.add_api_route("/favicon.ico", favicon, include_in_schema=False)
    app.include_router(router)
    app.include_router(signin_router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.mount(f"{VENDOR_URL}/leaflet", StaticFiles(directory=LEAFLET_DIR), name="leaflet")
    app.mount(f"{VENDOR_URL}/folium", StaticFiles(directory=FOLIUM_TEMPLATES_DIR), name="folium-js")
