"""The closed loop through the four consoles in a real browser: a resident posts a tip
from the resident page, the wall shows it within a second, the dispatcher assigns it
from the queue, the squad's phone announces it and the squad accepts, arrives and
handles it with a photo, the dispatcher verifies and closes it, the wall shows it
closed; and no page asked anything of a host other than the service."""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator

import httpx
import pytest

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.squads import service as squads_service
from tests.conftest import LiveServer
from tests.e2e.conftest import DESK, PHONE, WALL, Chromium, needs_chromium, scene_photo, screenshot

pytestmark = needs_chromium

QINGYUAN = (119.0612, 27.6185)  # 庆元县, served only by squad QY-01
SQUAD = "QY-01"


@pytest.fixture
async def squad_off_duty(database: Database) -> AsyncIterator[str]:
    """The only squad serving 庆元县 is off duty, so a tip there waits for the operator."""
    async with database.transaction() as session:
        await squads_service.set_on_duty(session=session, code=SQUAD, on_duty=False)
    yield SQUAD
    async with database.transaction() as session:
        await squads_service.set_on_duty(session=session, code=SQUAD, on_duty=True)


async def test_a_tip_goes_round_the_loop_through_the_four_consoles(
    live_server: LiveServer, chromium: Chromium, squad_off_duty: str
) -> None:
    url = live_server.url
    operator = live_server.token(Role.OPERATOR, subject="op-e2e")
    squad_token = live_server.token(Role.SQUAD, squad=squad_off_duty)

    wall = await chromium.page(f"{url}/console/wall?token={operator}", WALL)
    desk = await chromium.page(f"{url}/console/dispatch?token={operator}", DESK)
    phone = await chromium.page(f"{url}/console/squad?token={squad_token}", PHONE)
    for page in (wall, desk, phone):
        await page.wait_for_selector("body[data-state=ready]", timeout=15_000)
        await page.wait_for_selector("#conn[data-status=connected]", timeout=10_000)
    await screenshot(wall, "wall")

    # The resident: a photo, the phone's position, the problem, send.
    resident = await chromium.page(
        f"{url}/console/report",
        PHONE,
        geolocation={"longitude": QINGYUAN[0], "latitude": QINGYUAN[1]},
        permissions=["geolocation"],
    )
    await resident.wait_for_selector("body[data-state=ready]", timeout=15_000)
    await resident.select_option("#service", "CG-004")
    await resident.fill("#description", "公交站台贴满小广告")
    photo = {"name": "tip.jpg", "mimeType": "image/jpeg", "buffer": scene_photo("tip")}
    await resident.set_input_files("#photos", files=[photo])
    await resident.click("#locate")
    await resident.wait_for_selector("#where[data-set]", timeout=5_000)
    await screenshot(resident, "report")
    async with resident.expect_response(lambda r: r.url.endswith("/api/v1/public/tips")) as sent:
        await resident.click("#submit")
    answer = await sent.value
    answered_at = time.time()
    assert answer.status == 201, await answer.text()
    code = (await answer.json())["service_request_id"]
    progress_code = (await answer.json())["progress_code"]  # what the resident keeps
    await resident.wait_for_selector("#receipt:not([hidden])")
    assert await resident.text_content("#receipt-code") == progress_code
    await screenshot(resident, "report-receipt")

    # The wall shows it within a second of the intake, waiting for a decision.
    await wall.wait_for_selector(f'.clue-dot[data-code="{code}"]', timeout=1_000)
    seen_at = await wall.evaluate(f"window.__wallSeen['{code}'] / 1000")
    assert seen_at - answered_at < 1.0
    await wall.wait_for_selector(f'[data-code="{code}"][data-state="received"]', timeout=2_000)

    # The dispatcher: the clue is queued (no squad on duty), the off-duty squad is
    # suggested with its distance; assign it with a reason.
    item = f'#clue-list li[data-code="{code}"]'
    await desk.wait_for_selector(item, timeout=5_000)
    assert "队伍均不在岗" in (await desk.text_content(item) or "")
    await desk.click(item)
    await desk.wait_for_selector("#d-why:has-text('庆元县的执法队均不在岗')", timeout=5_000)
    row = f'#candidates tr[data-squad="{squad_off_duty}"]'
    await desk.wait_for_selector(row, timeout=5_000)
    assert re.search(r"\d+ (米|公里)", await desk.text_content(row) or "")
    await desk.wait_for_selector("#d-photos img", timeout=5_000)
    await desk.check(f"{row} input[type=radio]")
    await desk.click("#assign")
    assert await desk.get_attribute("#flash", "data-kind") == "error"  # a reason is required
    await desk.fill("#assign-note", "临时调派值班人员处置")
    await desk.click("#assign")
    await desk.wait_for_selector("#flash[data-kind=ok]", timeout=5_000)
    await desk.wait_for_selector(item, state="detached", timeout=5_000)
    await screenshot(desk, "dispatch")

    # The squad's phone announces it at once; accept, arrive, handle with a photo.
    await phone.wait_for_selector("#announce:not([hidden])", timeout=5_000)
    await screenshot(phone, "squad-announce")
    await phone.click("#announce-open")
    await phone.wait_for_selector("#task-view[data-state=dispatched]", timeout=5_000)
    assert (await phone.get_attribute("#t-nav", "href") or "").startswith("geo:27.6185,119.0612")
    await phone.click("#do-accept")
    await phone.wait_for_selector("#task-view[data-state=accepted]", timeout=5_000)
    await phone.click("#do-arrive")
    await phone.wait_for_selector("#task-view[data-state=on_scene]", timeout=5_000)
    await phone.click("#do-handle")
    assert await phone.get_attribute("#flash", "data-kind") == "error"  # a photo is required
    await phone.set_input_files(
        "#handle-photo",
        files=[{"name": "after.jpg", "mimeType": "image/jpeg", "buffer": scene_photo("after")}],
    )
    await phone.fill("#handle-note", "已清除小广告")
    await phone.click("#do-handle")
    await phone.wait_for_selector("#task-view[data-state=handled]", timeout=5_000)
    await screenshot(phone, "squad-handled")

    # The dispatcher verifies and closes it; the wall shows it closed.
    await desk.click("[data-tab=closing]")
    await desk.click(item)
    await desk.wait_for_selector("#verify:not([disabled])", timeout=5_000)
    await desk.click("#verify")
    await desk.wait_for_selector("#close:not([disabled])", timeout=5_000)
    await desk.click("#close")
    await desk.wait_for_selector("#flash[data-kind=ok]", timeout=5_000)
    await wall.wait_for_selector(f'[data-code="{code}"][data-state="closed"]', timeout=5_000)
    closed_today = ""
    for _ in range(40):  # the wall refreshes today's figures a few seconds after events
        closed_today = (await wall.text_content("#kpi-closed") or "").strip()
        if closed_today.isdigit() and int(closed_today) >= 1:
            break
        await wall.wait_for_timeout(250)
    assert closed_today.isdigit() and int(closed_today) >= 1, closed_today
    await screenshot(wall, "wall-closed")

    async with httpx.AsyncClient(base_url=url) as http:
        clue = (await http.get(f"/api/v1/public/clues/{progress_code}")).json()
        assert clue["status"] == "closed"
    for page in (wall, desk, phone, resident):
        assert page.errors == [], page.errors  # type: ignore[attr-defined]
    assert chromium.requests.outside(live_server.port) == []
    assert any("/console/vendor/leaflet/leaflet.js" in u for u in chromium.requests.urls)
