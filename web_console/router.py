"""`/console/…`: the wall screen, the dispatcher desk, the squad phone and the resident
page, with their scripts, styles and the vendored map library, all served from here.

The pages hold no data: their scripts read the JSON endpoints and the websockets with
the token from the page's own URL (`?token=…`, so that a wall screen starts
unattended). A page checks the token's signature and role before it is shown.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from command_center.auth import tokens
from command_center.errors import Unauthenticated
from command_center.settings import Settings
from web_console.assets import FOLIUM_TEMPLATES_DIR, LEAFLET_DIR, VENDOR_URL
from web_console.i18n import pick_lang
from web_console.maps import Tiles
from web_console.pages import PAGES, render, render_gate, render_index, security_headers

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(prefix="/console", include_in_schema=False)

LangQuery = Annotated[str | None, Query(max_length=10)]
TokenQuery = Annotated[str | None, Query(max_length=4096)]


def tiles_of(settings: Settings) -> Tiles:
    return Tiles(
        url=settings.map_tile_url,
        crs=settings.map_tile_crs,
        attribution=settings.map_tile_attribution,
        subdomains=settings.map_tile_subdomains,
        max_zoom=settings.map_tile_max_zoom,
    )


def _page(request: Request, name: str, lang_text: str | None, token: str | None) -> HTMLResponse:
    page, lang = PAGES[name], pick_lang(lang_text)
    settings: Settings = request.app.state.settings
    tiles = tiles_of(settings)
    headers = security_headers(tiles)
    principal = None
    if page.roles is not None:
        words = "token_missing"
        try:
            if not token:
                raise Unauthenticated("a token is needed")
            principal = tokens.verify(token, key=request.app.state.signing_key)
        except Unauthenticated:
            words = "token_invalid" if token else "token_missing"
            body = render_gate(page, lang=lang, problem=words, role=None)
            return HTMLResponse(body, status_code=401, headers=headers)
        if principal.role not in page.roles:
            body = render_gate(page, lang=lang, problem="wrong_role", role=principal.role)
            return HTMLResponse(body, status_code=403, headers=headers)
    body = render(page, lang=lang, tiles=tiles, principal=principal, zone=settings.timezone)
    return HTMLResponse(body, headers=headers)


@router.get("", response_class=HTMLResponse)
async def index(request: Request, lang: LangQuery = None) -> HTMLResponse:
    """Links to the four consoles."""
    headers = security_headers(tiles_of(request.app.state.settings))
    return HTMLResponse(render_index(lang=pick_lang(lang)), headers=headers)


@router.get("/wall", response_class=HTMLResponse)
async def wall(request: Request, lang: LangQuery = None, token: TokenQuery = None) -> HTMLResponse:
    """The wall screen (operators, supervisors, admins): the live map and today's figures."""
    return _page(request, "wall", lang, token)


@router.get("/dispatch", response_class=HTMLResponse)
async def dispatch(
    request: Request, lang: LangQuery = None, token: TokenQuery = None
) -> HTMLResponse:
    """The dispatcher desk (operators, admins): the queue, suggested squads, decisions."""
    return _page(request, "dispatch", lang, token)


@router.get("/squad", response_class=HTMLResponse)
async def squad(request: Request, lang: LangQuery = None, token: TokenQuery = None) -> HTMLResponse:
    """The squad phone (a squad's token): assignments as they come, accept … handle."""
    return _page(request, "squad", lang, token)


@router.get("/report", response_class=HTMLResponse)
async def report(request: Request, lang: LangQuery = None) -> HTMLResponse:
    """The resident page (what the mini-program shows): send a tip, follow it by code."""
    return _page(request, "report", lang, None)


async def favicon() -> FileResponse:
    """`/favicon.ico`, which browsers ask of every page (/track, /docs, …): the consoles'
    shield (static/icon.svg) as a 16–64 px ICO."""
    headers = {"Cache-Control": "public, max-age=86400"}
    return FileResponse(STATIC_DIR / "favicon.ico", media_type="image/x-icon", headers=headers)


def install(app: FastAPI) -> None:
    """Serve the consoles, their static files, the vendored map library and the favicon."""
    app.add_api_route("/favicon.ico", favicon, include_in_schema=False)
    app.include_router(router)
    app.mount("/console/static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.mount(f"{VENDOR_URL}/leaflet", StaticFiles(directory=LEAFLET_DIR), name="leaflet")
    app.mount(f"{VENDOR_URL}/folium", StaticFiles(directory=FOLIUM_TEMPLATES_DIR), name="folium-js")
