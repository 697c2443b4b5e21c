"""What each console page is: who may open it, its theme, its map. Rendering with Jinja2
templates, the security headers every page carries. No I/O beyond reading templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from command_center.auth.model import Principal, Role
from command_center.securityheaders import security_headers as shared_headers
from web_console.i18n import Lang, translator
from web_console.maps import MapParts, Tiles, build

VERSION = "1"


@dataclass(frozen=True, slots=True)
class Page:
    name: str
    template: str
    roles: frozenset[Role] | None  # None: public, no token
    theme: str
    overlays: tuple[str, ...]
    heat: bool = False
    layer_control: bool = True


STAFF = frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.ADMIN})

PAGES: dict[str, Page] = {
    "wall": Page(
        "wall", "wall.html", STAFF, "dark", ("jurisdictions", "clues", "squads"), heat=True
    ),
    "dispatch": Page(
        "dispatch",
        "dispatch.html",
        frozenset({Role.OPERATOR, Role.ADMIN}),
        "light",
        ("jurisdictions", "squads", "clues"),
        layer_control=False,
    ),
    "squad": Page(
        "squad",
        "squad.html",
        frozenset({Role.SQUAD}),
        "light",
        ("jurisdictions", "clues"),
        layer_control=False,
    ),
    "report": Page(
        "report", "report.html", None, "light", ("jurisdictions", "clues"), layer_control=False
    ),
}

_env = Environment(
    loader=PackageLoader("web_console", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def page_map(page: Page, tiles: Tiles, lang: Lang) -> MapParts:
    words = translator(lang)
    return build(
        tiles,
        overlays=tuple((key, words[f"layer_{key}"]) for key in page.overlays),
        heat_title=words["layer_heat"] if page.heat else None,
        layer_control=page.layer_control,
    )


def render(
    page: Page,
    *,
    lang: Lang,
    tiles: Tiles,
    principal: Principal | None,
    zone: str,
    csrf: str | None = None,
) -> str:
    """The page's HTML. No token is written into it (a kiosk's sits in an HttpOnly
    cookie); `csrf` is the token its script sends back on requests that change things."""
    words = translator(lang)
    parts = page_map(page, tiles, lang)
    config: dict[str, Any] = {
        "page": page.name,
        "lang": lang,
        "zone": zone,
        "i18n": words,
        "map": {"var": parts.map_var, "layers": parts.layers},
        "tiles": {"crs": tiles.crs, "enabled": bool(tiles.url), "max_zoom": tiles.max_zoom},
        "csrf": csrf,
        "principal": None
        if principal is None
        else {
            "role": principal.role.value,
            "subject": principal.subject,
            "squad": principal.squad,
            "jurisdiction": principal.jurisdiction,
        },
    }
    return _env.get_template(page.template).render(
        t=words, lang=lang, page=page, map=parts, config=config, version=VERSION
    )


def render_gate(page: Page, *, lang: Lang, problem: str, role: Role | None) -> str:
    """The page shown instead when the token is missing, invalid or of another role."""
    words = translator(lang)
    allowed = [words[f"role_{r.value}"] for r in sorted(page.roles or (), key=str)]
    return _env.get_template("gate.html").render(
        t=words,
        lang=lang,
        page=page,
        problem=problem,
        allowed=allowed,
        role=words.get(f"role_{role.value}") if role else None,
        version=VERSION,
        config={"page": "gate", "lang": lang, "i18n": {}, "zone": "UTC"},
    )


SIGN_IN_PAGE = Page("login", "login.html", None, "light", ())


def render_login(
    *,
    lang: Lang,
    next_path: str,
    problem: str | None = None,
    username: str = "",
    totp: bool = False,
    sso: bool = False,
) -> str:
    """The sign-in page (its form posts to /login); `problem` names what went wrong;
    `sso`: offer single sign-on at the configured issuer (/auth/sso/login)."""
    return _env.get_template("login.html").render(
        t=translator(lang),
        lang=lang,
        page=SIGN_IN_PAGE,
        problem=problem,
        next=next_path,
        username=username,
        totp=totp,
        sso=sso,
        version=VERSION,
        config={"page": "login", "lang": lang, "i18n": {}, "zone": "UTC"},
    )


def render_password(*, lang: Lang, next_path: str, csrf: str, problem: str | None = None) -> str:
    """The forced password change (first sign-in, after a reset); `problem` is shown as is."""
    return _env.get_template("password.html").render(
        t=translator(lang),
        lang=lang,
        page=SIGN_IN_PAGE,
        problem=problem,
        next=next_path,
        csrf=csrf,
        version=VERSION,
        config={"page": "login", "lang": lang, "i18n": {}, "zone": "UTC"},
    )


def render_index(*, lang: Lang) -> str:
    return _env.get_template("index.html").render(
        t=translator(lang), lang=lang, version=VERSION, config={"page": "index"}
    )


def security_headers(tiles: Tiles) -> dict[str, str]:
    """The service's one set of security headers (command_center/securityheaders.py),
    with the tile host as an image source, and never cached (a page's URL holds its
    token)."""
    tile_host = tiles.img_source()
    images = [tile_host] if tile_host else []
    return {**shared_headers(images), "Cache-Control": "no-store"}
