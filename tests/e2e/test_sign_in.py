"""Signing in in a real browser: the desk on a screen and the squad page on a phone-sized
window reach their page through /login, sign out, and a squad member whose account is
disabled is thrown off the live websocket and back to the sign-in page."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page

from command_center.accounts import service
from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from tests.accounts_support import make_user, no_failures_left
from tests.conftest import LiveServer
from tests.e2e.conftest import DESK, PHONE, Chromium, needs_chromium, screenshot

pytestmark = [needs_chromium, pytest.mark.usefixtures(no_failures_left.__name__)]


async def _sign_in(page: Page, login: str, password: str) -> None:
    await page.fill("input[name=username]", login)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")


async def test_the_desk_signs_in_and_out(
    live_server: LiveServer, chromium: Chromium, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings, Role.OPERATOR)
    desk = await chromium.page(f"{live_server.url}/console/dispatch", DESK)
    await desk.wait_for_url("**/login?next=/console/dispatch")
    await _sign_in(desk, login, "Not-the-password-1")
    assert "登录名或密码错误" in (await desk.text_content("#problem") or "")
    await _sign_in(desk, login, password)
    await desk.wait_for_url("**/console/dispatch")
    await desk.wait_for_selector("body[data-state=ready]", timeout=15_000)
    await desk.wait_for_selector("#conn[data-status=connected]", timeout=10_000)
    await desk.click("#sign-out")
    await desk.wait_for_url(re.compile(r"/login(\?|$)"))
    await desk.goto(f"{live_server.url}/console/dispatch")
    await desk.wait_for_url("**/login?next=/console/dispatch")
    assert desk.errors == []  # type: ignore[attr-defined]


async def test_a_disabled_squad_member_is_thrown_off_the_phone(
    live_server: LiveServer, chromium: Chromium, database: Database, settings: Settings
) -> None:
    login, password, _ = await make_user(database, settings, Role.SQUAD, squad="LD-02")
    phone = await chromium.page(f"{live_server.url}/console/squad", PHONE, is_mobile=True)
    await phone.wait_for_url("**/login?next=/console/squad")
    await screenshot(phone, "sign-in-phone")
    await _sign_in(phone, login, password)
    await phone.wait_for_url("**/console/squad")
    await phone.wait_for_selector("body[data-state=ready]", timeout=15_000)
    await phone.wait_for_selector("#conn[data-status=connected]", timeout=10_000)
    async with database.transaction() as session:
        await service.disable_user(session=session, login=login)
    # The revocation poll (1 s) closes the socket with 4401; the page goes to sign in.
    await phone.wait_for_url("**/login?next=/console/squad", timeout=3_000)
    await _sign_in(phone, login, password)
    assert "登录名或密码错误" in (await phone.text_content("#problem") or "")
