"""Supervision over HTTP: evidence photos, verification that needs one, holds decided by
a supervisor, disputes, documents and warnings, each for the right roles only."""

import io
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import text

from command_center.auth.model import Role
from command_center.db.session import Database
from tests.conftest import LiveServer
from tests.support import tip_id


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), "blue").save(out, "JPEG")
    return out.getvalue()


async def clue_for(server: LiveServer, client: httpx.AsyncClient, sid: str) -> dict[str, Any]:
    listed = (await client.get("/api/v1/clues", headers=auth(server.token(Role.OPERATOR)))).json()
    return next(c for c in listed if c["service_request_id"] == sid)


async def test_a_matter_verified_by_photo_needs_one_from_the_scene(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database
) -> None:
    async with database.transaction() as session:
        await session.execute(
            text("UPDATE matters SET verify_needs_photo = true WHERE code = 'CG-003'")
        )
    try:
        clue = await clue_for(live_server, client, await tip_id(client, service_code="CG-003"))
        squad = auth(live_server.token(Role.SQUAD, squad=clue["squad_code"]))
        operator = auth(live_server.token(Role.OPERATOR))
        for action in ("accept", "arrive", "handle"):
            await client.post(
                f"/api/v1/clues/{clue['id']}/actions", json={"action": action}, headers=squad
            )
        refused = await client.post(
            f"/api/v1/clues/{clue['id']}/actions", json={"action": "verify"}, headers=operator
        )
        assert refused.status_code == 400
        assert "photo" in refused.json()["detail"]
        added = await client.post(
            f"/api/v1/clues/{clue['id']}/evidence",
            files={"photo": ("after.jpg", photo(), "image/jpeg")},
            data={"note": "整改后"},
            headers=squad,
        )
        assert added.status_code == 201, added.text
        verified = await client.post(
            f"/api/v1/clues/{clue['id']}/actions", json={"action": "verify"}, headers=operator
        )
        assert verified.json()["state"] == "verified"
    finally:
        async with database.transaction() as session:
            await session.execute(
                text("UPDATE matters SET verify_needs_photo = false WHERE code = 'CG-003'")
            )


async def test_a_hold_is_asked_by_the_squad_and_decided_by_a_supervisor(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    clue = await clue_for(live_server, client, await tip_id(client))
    squad = auth(live_server.token(Role.SQUAD, squad=clue["squad_code"]))
    asked = await client.post(
        f"/api/v1/clues/{clue['id']}/requests",
        json={"kind": "hold", "note": "等待当事人"},
        headers=squad,
    )
    assert asked.status_code == 201, asked.text
    url = f"/api/v1/clues/{clue['id']}/requests/{asked.json()['id']}/decision"
    by_operator = await client.post(
        url, json={"approve": True}, headers=auth(live_server.token(Role.OPERATOR))
    )
    assert by_operator.status_code == 403
    by_supervisor = await client.post(
        url,
        json={"approve": True, "note": "同意挂账"},
        headers=auth(live_server.token(Role.SUPERVISOR)),
    )
    assert by_supervisor.status_code == 204
    resumed = await client.post(f"/api/v1/clues/{clue['id']}/resume", headers=squad)
    assert resumed.status_code == 204


async def test_a_dispute_and_the_warnings_wall(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    clue = await clue_for(live_server, client, await tip_id(client, service_code="CG-002"))
    squad = auth(live_server.token(Role.SQUAD, squad=clue["squad_code"]))
    operator = auth(live_server.token(Role.OPERATOR))
    await client.post(
        f"/api/v1/clues/{clue['id']}/actions",
        json={"action": "return", "note": "属市场监管"},
        headers=squad,
    )
    decided = await client.post(
        f"/api/v1/clues/{clue['id']}/dispute",
        json={"decision": "reassign", "department": "市场监督管理局", "note": "确认"},
        headers=operator,
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["department"] == "市场监督管理局"
    assert (await client.get("/api/v1/warnings", headers=operator)).status_code == 200
    assert (await client.get("/api/v1/warnings", headers=squad)).status_code == 403
    documents = await client.get(f"/api/v1/clues/{clue['id']}/documents", headers=operator)
    assert documents.status_code == 200
    counts = (await client.get("/api/v1/disputes/by-department", headers=operator)).json()
    enforcement = next(c for c in counts if c["department"] == "综合行政执法局")
    assert enforcement["reassigned"] >= 1
