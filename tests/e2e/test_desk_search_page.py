"""The dispatcher desk finds any clue by what a resident on the phone reads out: the
code, the phone ending, words of the description; closed and cancelled ones too."""

from __future__ import annotations

import secrets

import httpx

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.e2e.conftest import DESK, Chromium, needs_chromium, screenshot
from tests.support import LIANDU, tip_id

pytestmark = needs_chromium


async def test_the_desk_finds_a_cancelled_clue_by_its_code_and_by_its_words(
    live_server: LiveServer, client: httpx.AsyncClient, chromium: Chromium
) -> None:
    operator = live_server.token(Role.OPERATOR, subject="op-search")
    marker = secrets.token_hex(3)
    sid = await tip_id(client, at=LIANDU, description=f"夜间施工噪音扰民 {marker}")
    [clue] = (
        await client.get(
            "/api/v1/clues", params={"q": sid}, headers={"Authorization": f"Bearer {operator}"}
        )
    ).json()
    await client.post(
        f"/api/v1/clues/{clue['id']}/actions",
        json={"action": "cancel", "note": "重复来电"},
        headers={"Authorization": f"Bearer {operator}"},
    )

    desk = await chromium.page(f"{live_server.url}/console/dispatch?token={operator}", DESK)
    await desk.wait_for_selector("body[data-state=ready]", timeout=15_000)
    await desk.fill("#search-text", sid)
    await desk.press("#search-text", "Enter")
    # one hit opens at once
    await desk.wait_for_selector(f"#clue[data-clue-id='{clue['id']}']:not([hidden])", timeout=5_000)
    assert await desk.text_content("#d-code") == sid
    assert await desk.get_attribute("#d-state", "data-state") == "cancelled"
    assert await desk.get_attribute("[data-tab=search]", "aria-selected") == "true"

    await desk.fill("#search-text", f"噪音 {marker}")
    await desk.press("#search-text", "Enter")
    await desk.wait_for_selector(f"#clue-list li[data-code='{sid}']", timeout=5_000)
    assert await desk.text_content("#count-search") == "1"
    await screenshot(desk, "desk-search")

    await desk.fill("#search-text", f"不存在 {marker}")
    await desk.press("#search-text", "Enter")
    await desk.wait_for_selector("#clue-list li.empty", timeout=5_000)
    assert await desk.text_content("#count-search") == "0"
    assert desk.errors == []  # type: ignore[attr-defined]
