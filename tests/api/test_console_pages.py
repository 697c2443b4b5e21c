"""The console pages as a browser first gets them: who may open which, the headers that
keep them on this host, and every script and style they name served from here."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import httpx

from command_center.auth.model import Role
from tests.conftest import LiveServer

PAGES = ("wall", "dispatch", "squad")


async def open_page(
    live_server: LiveServer, page: str, token: str | None = None, **params: str
) -> httpx.Response:
    """A page as a fresh browser gets it: a token in its address moves into a cookie and
    the page is redirected to the address without it (followed here)."""
    query = {**params, **({"token": token} if token else {})}
    async with httpx.AsyncClient(base_url=live_server.url, follow_redirects=True) as browser:
        return await browser.get(f"/console/{page}", params=query)


async def test_a_page_opens_only_with_a_token_of_its_role(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    squad = live_server.token(Role.SQUAD, squad="LD-01")
    for page in PAGES:
        missing = await client.get(f"/console/{page}")
        assert missing.status_code == 303
        assert missing.headers["location"] == f"/login?next=/console/{page}"
        bad = await client.get(f"/console/{page}", params={"token": "not-a-token"})
        assert bad.status_code == 401 and "令牌无效或已过期" in bad.text
        assert "set-cookie" not in bad.headers
    kept = await client.get("/console/wall", params={"token": operator, "lang": "en"})
    assert kept.status_code == 303 and kept.headers["location"] == "/console/wall?lang=en"
    assert "cc_token=" in kept.headers["set-cookie"] and "HttpOnly" in kept.headers["set-cookie"]
    assert (await open_page(live_server, "wall", operator)).status_code == 200
    assert (await open_page(live_server, "dispatch", operator)).status_code == 200
    assert (await open_page(live_server, "squad", squad)).status_code == 200
    wrong = await open_page(live_server, "wall", squad)
    assert wrong.status_code == 403 and "此页面不对该岗位开放" in wrong.text
    assert (await open_page(live_server, "squad", operator)).status_code == 403
    supervisor = live_server.token(Role.SUPERVISOR)
    assert (await open_page(live_server, "wall", supervisor)).status_code == 200
    assert (await open_page(live_server, "dispatch", supervisor)).status_code == 403
    assert (await client.get("/console/report")).status_code == 200
    assert (await client.get("/console")).status_code == 200


async def test_pages_never_reflect_the_token_and_load_only_from_this_host(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    answer = await open_page(live_server, "wall", operator)
    assert operator not in answer.text and operator not in str(answer.url)
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "connect-src 'self'" in policy
    assert "img-src 'self' data: blob:;" in policy  # no tiles configured: no other host
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["cache-control"] == "no-store"
    for page, token in [("wall", operator), ("dispatch", operator), ("report", None)]:
        html = (await open_page(live_server, page, token)).text
        links = re.findall(r'(?:src|href)="([^"#]+)"', html)
        assert links, page
        for link in links:
            assert not re.match(r"^(https?:)?//", link), f"{page} links outside: {link}"
            served = await client.get(urljoin(f"/console/{page}", link))
            assert served.status_code == 200, link
    leaflet = await client.get("/console/vendor/leaflet/leaflet.js")
    assert "Leaflet 1.9" in leaflet.text[:200]
    assert (await client.get("/console/vendor/leaflet/images/layers.png")).status_code == 200


async def test_the_english_switch(live_server: LiveServer, client: httpx.AsyncClient) -> None:
    operator = live_server.token(Role.OPERATOR)
    chinese = await open_page(live_server, "wall", operator)
    assert '<html lang="zh-CN"' in chinese.text and "综合执法态势一张图" in chinese.text
    english = await open_page(live_server, "wall", operator, lang="en")
    assert '<html lang="en"' in english.text and "Enforcement situation wall" in english.text
    sign_in = await open_page(live_server, "dispatch", lang="en")
    assert "Sign in" in sign_in.text and 'name="password"' in sign_in.text
