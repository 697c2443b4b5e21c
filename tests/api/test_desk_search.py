"""`GET /api/v1/clues?q=…`: the desk finds any clue in scope by code, phone ending or words,
closed and cancelled ones included, and nothing outside the caller's scope."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.support import LIANDU, QINGTIAN, tip_id


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def search(client: httpx.AsyncClient, token: str, q: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/clues", params={"q": q}, headers=auth(token))
    assert response.status_code == 200, response.text
    return list(response.json())


async def clue_of(client: httpx.AsyncClient, token: str, sid: str) -> dict[str, Any]:
    [clue] = await search(client, token, sid)
    return clue


async def test_a_cancelled_clue_is_found_by_its_code_its_phone_ending_and_its_words(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    ending = f"{secrets.randbelow(10_000):04d}"
    marker = secrets.token_hex(3)  # a word no other test wrote
    sid = await tip_id(
        client, at=LIANDU, description=f"人行道上摆摊卖水果 {marker}", phone=f"1380013{ending}"
    )
    clue = await clue_of(client, operator, sid)
    cancelled = await client.post(
        f"/api/v1/clues/{clue['id']}/actions",
        json={"action": "cancel", "note": "居民已撤回"},
        headers=auth(operator),
    )
    assert cancelled.json()["state"] == "cancelled"

    assert [c["service_request_id"] for c in await search(client, operator, sid)] == [sid]
    by_phone = await search(client, operator, ending)
    assert sid in [c["service_request_id"] for c in by_phone]
    assert all(c["reporter_phone"].endswith(ending) for c in by_phone if c["reporter_phone"])
    assert sid in [c["service_request_id"] for c in await search(client, operator, f"****{ending}")]
    # Chinese words: any run of characters, every word must occur
    found = await search(client, operator, f"卖水果 {marker}")
    assert [c["service_request_id"] for c in found] == [sid]
    assert found[0]["state"] == "cancelled"
    assert await search(client, operator, f"卖蔬菜 {marker}") == []


async def test_search_stays_in_the_callers_scope_and_refuses_an_empty_text(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    marker = secrets.token_hex(3)
    liandu = await tip_id(client, at=LIANDU, description=f"噪音扰民 {marker}")
    qingtian = await tip_id(client, at=QINGTIAN, description=f"噪音扰民 {marker}")
    district = live_server.token(Role.OPERATOR, jurisdiction="331102")  # 莲都区
    codes = [c["service_request_id"] for c in await search(client, district, marker)]
    assert codes == [liandu]
    assert await search(client, district, qingtian) == []
    city = live_server.token(Role.OPERATOR)
    assert {c["service_request_id"] for c in await search(client, city, marker)} == {
        liandu,
        qingtian,
    }

    empty = await client.get("/api/v1/clues", params={"q": "  "}, headers=auth(city))
    assert empty.status_code == 400
    assert "empty" in empty.text
    # LIKE's own characters are searched for, not interpreted
    assert await search(client, city, f"%{marker}") == []
