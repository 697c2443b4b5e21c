"""The sign-in page at /login as a browser uses it: the form, where it goes after, the
forced password change, and what it refuses (open redirects, a locked login)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.accounts_support import make_user, no_failures_left
from tests.conftest import LiveServer

pytestmark = pytest.mark.usefixtures(no_failures_left.__name__)


@pytest.fixture
async def browser(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.url, timeout=10) as client:
        yield client


async def test_the_form_signs_in_and_goes_where_it_was_asked(
    browser: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings, Role.SQUAD, squad="LD-01")
    first = await browser.get("/console/squad")
    assert first.headers["location"] == "/login?next=/console/squad"
    page = await browser.get(first.headers["location"])
    assert (
        page.status_code == 200 and "登录名" in page.text and 'value="/console/squad"' in page.text
    )
    form = {"username": login, "password": password, "next": "/console/squad"}
    answer = await browser.post("/login", data=form)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/squad"
    squad_page = await browser.get("/console/squad")
    assert squad_page.status_code == 200 and '"csrf": "' in squad_page.text


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
async def test_after_sign_in_it_never_leaves_the_site(
    browser: httpx.AsyncClient, database: Database, settings: Settings, target: str
) -> None:
    login, password, _ = await make_user(database, settings)
    answer = await browser.post(
        "/login", data={"username": login, "password": password, "next": target}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/console"


async def test_a_wrong_password_shows_the_page_again_and_a_lock_says_so(
    browser: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings)
    for _ in range(5):
        wrong = await browser.post("/login", data={"username": login, "password": "Bad-pass-99"})
        assert wrong.status_code == 401 and "登录名或密码错误" in wrong.text
        assert "Bad-pass-99" not in wrong.text
    locked = await browser.post("/login", data={"username": login, "password": password})
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text
    assert int(locked.headers["retry-after"]) > 0


async def test_the_first_sign_in_changes_the_password_in_the_browser(
    browser: httpx.AsyncClient, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings, must_change_password=True)
    answer = await browser.post(
        "/login", data={"username": login, "password": password, "next": "/console/wall"}
    )
    assert answer.status_code == 200 and 'name="new_password"' in answer.text
    assert (await browser.get("/console/wall")).headers["location"].startswith("/login/password")
    csrf = answer.text.split('name="csrf_token" value="')[1].split('"')[0]
    change = {
        "current_password": password,
        "new_password": "Qing-Tian-River-8",
        "next": "/console/wall",
    }
    refused = await browser.post("/login/password", data=change)  # no CSRF token
    assert refused.status_code == 403
    done = await browser.post("/login/password", data={**change, "csrf_token": csrf})
    assert done.status_code == 303 and done.headers["location"] == "/console/wall"
    assert (await browser.get("/console/wall")).status_code == 200
