"""Single sign-on in a real browser (Debian Chromium): the sign-in page's portal button,
the provider's own sign-in page, and back on the dispatch desk, signed in and live."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from command_center.auth.model import Role
from command_center.db.session import Database
from tests.accounts_support import make_user
from tests.conftest import LiveServer
from tests.e2e.conftest import DESK, Chromium, needs_chromium, screenshot
from tests.oidc_provider import IdpUser, sso_servers

pytestmark = [needs_chromium, pytest.mark.asyncio(loop_scope="session")]

ZHOU = IdpUser("zhou", "Portal-pw-8", {"name": "周八", "officer_number": "SSO-33110008"})


@pytest.fixture(scope="module")
def server(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with sso_servers(tmp_path_factory.mktemp("oidc"), [ZHOU], {}) as (_, servers):
        yield servers[0]


async def test_the_portal_button_signs_an_officer_onto_the_desk(
    server: LiveServer, chromium: Chromium, database: Database
) -> None:
    login, _, _ = await make_user(
        database, server.settings, Role.OPERATOR, officer_number="SSO-33110008"
    )
    desk = await chromium.page(f"{server.url}/console/dispatch", DESK)
    await desk.wait_for_url("**/login?next=/console/dispatch")
    await screenshot(desk, "sign-in-with-portal")
    await desk.click("#sso")
    # the provider's own page, on its own port
    await desk.wait_for_selector("input[name=password]")
    assert desk.url.startswith("http://127.0.0.1:") and "/interaction/" in desk.url
    await desk.fill("input[name=login]", ZHOU.login)
    await desk.fill("input[name=password]", ZHOU.password)
    await desk.click("button")
    await desk.wait_for_url(f"{server.url}/console/dispatch")
    await desk.wait_for_selector("body[data-state=ready]", timeout=15_000)
    await desk.wait_for_selector("#conn[data-status=connected]", timeout=10_000)
    me = await desk.evaluate("fetch('/auth/me').then(answer => answer.json())")
    assert me["login"] == login
    assert desk.errors == []  # type: ignore[attr-defined]
