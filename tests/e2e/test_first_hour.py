"""What a newcomer trips over in the first hour, each checked in Chromium: local time as
people read it on the public page, unambiguous dates in English, the wall's latest
events on open, squads that do not overlap at the city seat, a favicon."""

from __future__ import annotations

import re

import httpx

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.e2e.conftest import DESK, PHONE, WALL, Chromium, needs_chromium, screenshot
from tests.support import LIANDU, post_tip, tip_id

pytestmark = needs_chromium

CHINESE_TIME = re.compile(r"^\d{1,2}月\d{1,2}日 \d{2}:\d{2}$")
ENGLISH_TIME = re.compile(
    r"^\d{1,2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{2}:\d{2}$"
)


async def test_the_progress_page_shows_local_time_as_people_read_it_and_has_a_favicon(
    live_server: LiveServer, client: httpx.AsyncClient, chromium: Chromium
) -> None:
    sent = await post_tip(client, at=LIANDU, description="路边倾倒建筑垃圾")
    progress = sent.json()[0]["progress_code"]  # what the reporter was given
    page = await chromium.page(f"{live_server.url}/track/{progress}", PHONE)
    times = await page.locator("li time").all_text_contents()
    assert times and all(CHINESE_TIME.match(t) for t in times), times
    iso = await page.locator("li time").first.get_attribute("datetime")
    assert iso and iso.endswith("+08:00")  # the machine-readable time stays, in the element
    assert "T" not in (await page.text_content("ol") or "")
    icon = await page.evaluate(
        "fetch('/favicon.ico').then(r => [r.status, r.headers.get('content-type')])"
    )
    assert icon == [200, "image/x-icon"]


async def test_english_consoles_write_dates_unambiguously(
    live_server: LiveServer, client: httpx.AsyncClient, chromium: Chromium
) -> None:
    await tip_id(client, at=LIANDU, service_code="CG-002", description="waiting")
    operator = live_server.token(Role.OPERATOR)
    desk = await chromium.page(f"{live_server.url}/console/dispatch?lang=en&token={operator}", DESK)
    await desk.wait_for_selector("body[data-state=ready]", timeout=15_000)
    await desk.click("[data-tab=dispatched]")
    await desk.wait_for_selector("#clue-list li time", timeout=5_000)
    shown = await desk.locator("#clue-list li time").all_text_contents()
    assert shown and all(ENGLISH_TIME.match(t) for t in shown), shown


async def test_the_wall_opens_with_the_latest_events_and_squads_that_do_not_overlap(
    live_server: LiveServer, client: httpx.AsyncClient, chromium: Chromium
) -> None:
    sid = await tip_id(client, at=LIANDU, description="店外经营")
    operator = live_server.token(Role.OPERATOR)
    wall = await chromium.page(f"{live_server.url}/console/wall?token={operator}", WALL)
    await wall.wait_for_selector("body[data-state=ready]", timeout=15_000)
    # the tip came before the wall opened: it is in the panel at once, from the log
    await wall.wait_for_selector(f"#feed li[data-code='{sid}']", timeout=3_000)
    await wall.wait_for_selector(".squad-pin, .squad-group", timeout=5_000)
    await wall.wait_for_timeout(800)  # the plugin's grouping animation (0.3 s)
    await screenshot(wall, "wall-squads-grouped")
    boxes = await wall.evaluate(
        """[...document.querySelectorAll('.squad-pin, .squad-group')].map((e) => {
             const r = e.getBoundingClientRect();
             return [r.left, r.top, r.right, r.bottom];
           })"""
    )

    def overlap(a: list[float], b: list[float]) -> bool:
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]

    pairs = [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if overlap(a, b)]
    assert pairs == []
    assert await wall.locator(".squad-group").count() >= 1  # the seats' squads grouped
    assert wall.errors == []  # type: ignore[attr-defined]
