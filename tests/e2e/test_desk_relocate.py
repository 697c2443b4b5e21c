"""Relocate on the desk: an address-only clue waiting "confirm the location" is placed on
the map by a click and a drag, with the address shown beside it and a reason required,
and is dispatched at once."""

from __future__ import annotations

import httpx

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.e2e.conftest import DESK, Chromium, needs_chromium, screenshot
from tests.support import LIANDU, STREET_STALLS, spread

pytestmark = needs_chromium

ADDRESS = "浙江省丽水市青田县鹤城街道某路 18 号"


async def point_of(desk: object, lon: float, lat: float) -> dict[str, float]:
    """Where (lon, lat) is on the page, in pixels."""
    return await desk.evaluate(  # type: ignore[attr-defined,no-any-return]
        """([lon, lat]) => {
             const p = MapKit.map.latLngToContainerPoint(CC.toMap(lon, lat));
             const box = MapKit.map.getContainer().getBoundingClientRect();
             return { x: box.left + p.x, y: box.top + p.y };
           }""",
        [lon, lat],
    )


async def test_the_operator_places_an_address_only_clue_on_the_map_and_it_is_dispatched(
    live_server: LiveServer, client: httpx.AsyncClient, chromium: Chromium
) -> None:
    answer = await client.post(
        "/open311/v2/requests.json",
        data={"service_code": STREET_STALLS, "address_string": ADDRESS},
    )
    sid = answer.json()[0]["service_request_id"]
    operator = live_server.token(Role.OPERATOR, subject="op-relocate")
    desk = await chromium.page(f"{live_server.url}/console/dispatch?token={operator}", DESK)
    await desk.wait_for_selector("body[data-state=ready]", timeout=15_000)
    await desk.click(f"#clue-list li[data-code='{sid}']")
    await desk.wait_for_selector("#relocate-panel:not([hidden])", timeout=5_000)
    assert await desk.text_content("#relocate-address") == ADDRESS
    assert await desk.is_disabled("#relocate")  # nothing chosen yet
    await desk.wait_for_selector("#relocate-marker", timeout=5_000)

    # a click on the map puts the marker there …
    await desk.evaluate("MapKit.map.setView(CC.toMap(119.83, 28.47), 13, { animate: false })")
    first = spread(LIANDU)
    at = await point_of(desk, *first)
    await desk.mouse.click(at["x"], at["y"])
    shown = await desk.text_content("#relocate-position")
    assert shown and shown != "—"
    # … and a drag moves it
    target = spread(LIANDU)
    to = await point_of(desk, *target)
    grab = 14  # px above the pin's point: inside its head, kept while dragging
    await desk.mouse.move(at["x"], at["y"] - grab)
    await desk.mouse.down()
    await desk.mouse.move(to["x"], to["y"] - grab - 20, steps=8)
    await desk.mouse.move(to["x"], to["y"] - grab, steps=4)
    await desk.mouse.up()
    moved = await desk.text_content("#relocate-position")
    assert moved and moved != shown
    lon, lat = (float(v) for v in moved.split(","))
    assert abs(lon - target[0]) < 0.002 and abs(lat - target[1]) < 0.002  # a pixel or two
    await screenshot(desk, "desk-relocate")

    await desk.click("#relocate")  # no reason yet: refused on the page
    assert await desk.get_attribute("#flash", "data-kind") == "error"
    assert await desk.get_attribute("#d-state", "data-state") == "received"
    await desk.fill("#relocate-note", "来电人确认在菜场东门")
    await desk.click("#relocate")
    await desk.wait_for_selector("#d-state[data-state=dispatched]", timeout=5_000)
    assert await desk.is_hidden("#relocate-panel")
    headers = {"Authorization": f"Bearer {operator}"}
    [clue] = (await client.get("/api/v1/clues", params={"q": sid}, headers=headers)).json()
    assert clue["state"] == "dispatched" and clue["jurisdiction_code"] == "331102"
    assert abs(clue["location"]["lon"] - lon) < 1e-5 and abs(clue["location"]["lat"] - lat) < 1e-5
    record = (await client.get(f"/api/v1/clues/{clue['id']}/events", headers=headers)).json()
    assert "来电人确认在菜场东门" in str(record)
    assert desk.errors == []  # type: ignore[attr-defined]
