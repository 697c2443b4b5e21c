"""Issue 15, finding 8, performed as the probe did: `/track`, `/video/publish`,
`/video/watch` and `/docs` sent no security headers, and the consoles' CSP allowed
`'unsafe-inline'` scripts because folium wrote its map inline.

Now every page carries the same headers from one place (command_center/securityheaders.py)
with `script-src 'self'`, holds no inline script, and still works in Chromium with the
policy enforced: no script refused, and each page's script has run. (ReDoc's footer
asks cdn.redoc.ly for its logo; the policy refuses that image, as it should.)"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, async_playwright

from tests.browser import CHROMIUM, CHROMIUM_ARGS
from tests.security.world import World

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium")

# An inline script: a <script> without src that is not a JSON data block.
INLINE_SCRIPT = re.compile(r"<script(?![^>]*(?:\bsrc=|type=\"application/json\"))[^>]*>")


def pages(world: World) -> dict[str, str]:
    """Each page → a selector that exists only once its script has run."""
    operator = world.token("operator")
    squad = world.token("squad")
    return {
        f"/track/{world.progress_a}": "h1",
        "/video/publish#stream=CAM-LD-01&token=x": "#stream:text('CAM-LD-01')",
        "/video/watch#stream=CAM-LD-01&token=x": "#stream:text('CAM-LD-01')",
        "/docs": "#swagger-ui .info",
        "/redoc": "redoc .api-info, [role=search], h1",
        "/console": "body",
        "/console/report": "body[data-state=ready]",
        f"/console/wall?token={operator}": "body[data-state=ready]",
        f"/console/dispatch?token={operator}": "body[data-state=ready]",
        f"/console/squad?token={squad}": "body[data-state=ready]",
        "/console/wall": "body",  # the gate page, without a token
    }


def test_every_page_has_the_same_headers_and_no_inline_script(world: World) -> None:
    policies = set()
    for path in pages(world):
        # a console opened with ?token= moves the token into a cookie and answers 303 to
        # the same page without it (out of the address bar and the access log)
        with httpx.Client(timeout=10, follow_redirects=True) as browser:
            answer = browser.get(f"{world.url}{path.partition('#')[0]}")
        assert answer.status_code in (200, 401), (path, answer.status_code)
        assert "token=" not in str(answer.url), (path, answer.url)
        policy = answer.headers.get("Content-Security-Policy", "")
        directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
        assert directives["script-src"] == "'self'", (path, policy)
        assert directives["frame-ancestors"] == "'self'", path
        assert answer.headers["X-Content-Type-Options"] == "nosniff", path
        assert answer.headers["Referrer-Policy"] == "no-referrer", path
        assert INLINE_SCRIPT.findall(answer.text) == [], (path, INLINE_SCRIPT.findall(answer.text))
        policies.add(policy)
    assert len(policies) == 1, policies  # one policy for every page
    api = httpx.get(f"{world.url}/open311/v2/services.json", timeout=10)
    assert api.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture(scope="module")
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
        )
        yield browser
        await browser.close()


@needs_chromium
async def test_every_page_works_with_the_policy_enforced(world: World, chromium: Browser) -> None:
    for path, ready in pages(world).items():
        page = await chromium.new_page()
        refused: list[str] = []
        page.on(
            "console",
            lambda message, into=refused: (
                into.append(message.text) if "script-src" in message.text else None
            ),
        )
        failures: list[str] = []
        page.on("pageerror", lambda error, into=failures: into.append(str(error)))
        await page.goto(f"{world.url}{path}")
        await page.wait_for_selector(ready, state="attached", timeout=15_000)
        await page.wait_for_timeout(300)
        assert refused == [], (path, refused)
        assert failures == [], (path, failures)
        await page.close()
