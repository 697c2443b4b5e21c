"""On a database marked as a demo every page wears a 演示 badge and the desk marks each
simulated clue; on any other database nothing says 演示."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.demo import service as demo_service
from tests.conftest import LiveServer
from tests.e2e.conftest import DESK, PHONE, WALL, Chromium, needs_chromium, screenshot
from tests.support import LIANDU, spread

pytestmark = needs_chromium


@pytest.fixture
async def demo(database: Database) -> AsyncIterator[None]:
    async with database.transaction() as session:
        await demo_service.mark(session=session, city="丽水市")
    yield
    async with database.transaction() as session:
        await demo_service.unmark(session=session)


async def test_every_page_of_a_demo_says_so_and_the_desk_marks_simulated_clues(
    live_server: LiveServer, client: httpx.AsyncClient, chromium: Chromium, demo: None
) -> None:
    lon, lat = spread(LIANDU)
    sent = await client.post(
        "/open311/v2/requests.json",
        data={"service_code": "CG-002", "long": str(lon), "lat": str(lat)},
        headers={"X-Demo-Simulation": "1"},
    )
    assert sent.status_code == 200, sent.text
    code = sent.json()[0]["service_request_id"]
    progress = sent.json()[0]["progress_code"]  # opens /track; the public id does not
    operator = live_server.token(Role.OPERATOR)
    squad = live_server.token(Role.SQUAD, squad="LD-01")
    url = live_server.url
    for path, size in [
        (f"/console/wall?token={operator}", WALL),
        (f"/console/dispatch?token={operator}", DESK),
        (f"/console/squad?token={squad}", PHONE),
        ("/console/report", PHONE),
    ]:
        page = await chromium.page(url + path, size)
        await page.wait_for_selector("#demo-badge", timeout=10_000)
        assert await page.text_content("#demo-badge") == "演示"
        assert await page.is_visible("#demo-badge")
        if "dispatch" in path:
            await page.wait_for_selector("body[data-state=ready]", timeout=10_000)
            await page.fill("#search-text", code)
            await page.press("#search-text", "Enter")
            item = page.locator(f"#clue-list li[data-code='{code}'] .demo-badge")
            assert await item.text_content() == "演示"
            await screenshot(page, "desk-demo")
        await page.context.close()
    track = await chromium.page(f"{url}/track/{progress}", PHONE)
    assert await track.text_content(".demo-badge") == "演示"


async def test_nothing_says_demo_on_a_real_database(
    live_server: LiveServer, client: httpx.AsyncClient, chromium: Chromium
) -> None:
    # an unmark is seen within DemoStatus.ttl_seconds (5 s) by a running service
    for _ in range(70):
        if (await client.get("/api/v1/demo")).json()["demo"] is False:
            break
        await asyncio.sleep(0.1)
    assert (await client.get("/api/v1/demo")).json() | {"city": None} == {
        "demo": False,
        "city": None,
        "badge": None,
        "simulation_header": "X-Demo-Simulation",
    }
    page = await chromium.page(f"{live_server.url}/console/report", PHONE)
    await page.wait_for_selector("body[data-state=ready]", timeout=10_000)
    await page.wait_for_timeout(300)
    assert await page.locator(".demo-badge").count() == 0
