"""The consoles' JSON read models against a live server: the wall map's clues (one by
one and aggregated), squads with positions and workload, jurisdictions as GeoJSON,
suggested squads, evidence, each scoped by the token."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from PIL import Image
from sqlalchemy import text

from command_center.auth.model import Role
from command_center.db.session import Database
from tests.conftest import LiveServer
from tests.support import LIANDU, QINGTIAN, tip_id

CITY = "118.5,27.0,120.6,28.9"  # all of 丽水市


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def map_clues(client: httpx.AsyncClient, token: str, **query: Any) -> dict[str, Any]:
    params = {"bbox": CITY, "zoom": 8, **query}
    response = await client.get("/api/v1/map/clues", params=params, headers=auth(token))
    assert response.status_code == 200, response.text
    return dict(response.json())


async def clue_of(client: httpx.AsyncClient, token: str, code: str) -> dict[str, Any]:
    clues = (await client.get("/api/v1/clues?limit=500", headers=auth(token))).json()
    return dict(next(c for c in clues if c["service_request_id"] == code))


async def act(client: httpx.AsyncClient, token: str, clue_id: int, action: str) -> None:
    response = await client.post(
        f"/api/v1/clues/{clue_id}/actions",
        json={"action": action, "note": f"{action} by test"},
        headers=auth(token),
    )
    assert response.status_code == 200, response.text


async def test_the_wall_map_sends_clues_one_by_one_or_clustered_with_counts_by_state(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    codes = [await tip_id(client, at=LIANDU) for _ in range(3)]
    codes.append(await tip_id(client, at=QINGTIAN))
    closed = await clue_of(client, operator, codes[0])
    squad = live_server.token(Role.SQUAD, squad=closed["squad_code"])
    for action, by in [("accept", squad), ("arrive", squad), ("handle", squad)]:
        await act(client, by, closed["id"], action)
    for action in ("verify", "close"):
        await act(client, operator, closed["id"], action)
    cancelled = await clue_of(client, operator, codes[1])
    await act(client, operator, cancelled["id"], "cancel")

    points = await map_clues(client, operator)
    assert points["mode"] == "points" and points["clusters"] == []
    states = {p["service_request_id"]: p["state"] for p in points["points"]}
    assert states[codes[0]] == "closed"  # closed today: still on the wall, in green
    assert codes[1] not in states  # cancelled: gone
    assert states[codes[2]] == states[codes[3]] == "dispatched"
    assert points["total"] == len(points["points"]) == sum(points["by_state"].values())

    clustered = await map_clues(client, operator, max_points=0)
    assert clustered["mode"] == "clusters" and clustered["points"] == []
    assert clustered["total"] == points["total"]
    assert sum(c["count"] for c in clustered["clusters"]) == clustered["total"]
    for cluster in clustered["clusters"]:
        assert sum(cluster["by_state"].values()) == cluster["count"]
        west, south, east, north = cluster["bounds"]
        assert west <= cluster["lon"] <= east and south <= cluster["lat"] <= north
    assert clustered["by_state"] == points["by_state"]
    # A finer zoom splits the city into more (smaller) cells.
    finer = await map_clues(client, operator, max_points=0, zoom=14)
    assert len(finer["clusters"]) >= len(clustered["clusters"])
    assert finer["cell"][0] < clustered["cell"][0]


async def test_the_map_shows_only_what_the_token_may_see(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    liandu, qingtian = await tip_id(client, at=LIANDU), await tip_id(client, at=QINGTIAN)
    district = live_server.token(Role.OPERATOR, jurisdiction="331121")  # 青田县
    seen = {p["service_request_id"] for p in (await map_clues(client, district))["points"]}
    assert qingtian in seen and liandu not in seen
    owner = (await clue_of(client, live_server.token(Role.OPERATOR), liandu))["squad_code"]
    mine = live_server.token(Role.SQUAD, squad=owner)
    seen = {p["service_request_id"] for p in (await map_clues(client, mine))["points"]}
    assert liandu in seen and qingtian not in seen
    params = {"bbox": CITY, "zoom": 8}
    assert (await client.get("/api/v1/map/clues", params=params)).status_code == 401


async def test_a_bad_viewport_is_refused_with_the_reason(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = auth(live_server.token(Role.OPERATOR))
    for bbox, words in [("1,2,3", "west,south,east,north"), ("120,28,119,29", "west < east")]:
        answer = await client.get(
            "/api/v1/map/clues", params={"bbox": bbox, "zoom": 8}, headers=operator
        )
        assert answer.status_code == 400 and words in answer.json()["detail"]
    answer = await client.get(
        "/api/v1/map/clues", params={"bbox": CITY, "zoom": 30}, headers=operator
    )
    assert answer.status_code == 422


async def test_jurisdictions_come_as_geojson_within_the_scope(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    everything = await client.get(
        "/api/v1/jurisdictions", headers=auth(live_server.token(Role.OPERATOR))
    )
    assert everything.status_code == 200
    assert everything.headers["content-type"].startswith("application/geo+json")
    body = everything.json()
    assert body["type"] == "FeatureCollection" and len(body["bbox"]) == 4
    codes = {f["properties"]["code"] for f in body["features"]}
    assert {"331100", "331102", "331121"} <= codes
    first = body["features"][0]
    assert first["geometry"]["type"] in ("Polygon", "MultiPolygon") and first["properties"]["name"]

    qingtian = auth(live_server.token(Role.OPERATOR, jurisdiction="331121"))
    district = await client.get("/api/v1/jurisdictions", headers=qingtian)
    assert {f["properties"]["code"] for f in district.json()["features"]} == {"331121"}
    squad = await client.get(
        "/api/v1/jurisdictions", headers=auth(live_server.token(Role.SQUAD, squad="LD-01"))
    )
    assert {f["properties"]["code"] for f in squad.json()["features"]} == {"331102"}
    city = await client.get(
        "/api/v1/jurisdictions?max_level=city", headers=auth(live_server.token(Role.OPERATOR))
    )
    assert {f["properties"]["level"] for f in city.json()["features"]} == {"city"}

    public = await client.get("/api/v1/public/jurisdictions")
    assert public.status_code == 200 and len(public.json()["features"]) == len(codes)
    assert (await client.get("/api/v1/public/jurisdictions?max_level=grid")).status_code == 422
    assert (await client.get("/api/v1/jurisdictions")).status_code == 401


async def test_squads_carry_their_live_position_and_workload(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    device = live_server.token(Role.DEVICE, device="phone-console-ld01", squad="LD-01")
    reported = await client.post(
        "/api/v1/telemetry",
        json={"lon": 119.9011, "lat": 28.4613},
        headers=auth(device),
    )
    assert reported.status_code == 200, reported.text
    operator = live_server.token(Role.OPERATOR)
    squads = {
        s["code"]: s
        for s in (await client.get("/api/v1/map/squads", headers=auth(operator))).json()
    }
    assert len(squads) == 16
    ld01 = squads["LD-01"]
    assert ld01["position"]["device_id"] == "phone-console-ld01"
    assert (ld01["position"]["lon"], ld01["position"]["lat"]) == (119.9011, 28.4613)
    assert "phone-console-ld01" in ld01["devices"] and ld01["jurisdictions"] == ["331102"]
    assert squads["LD-03"]["on_duty"] is False and squads["LD-03"]["position"] is None
    working = await client.get(
        "/api/v1/clues?state=dispatched&state=accepted&state=on_scene&limit=500",
        headers=auth(operator),
    )
    for code, squad in squads.items():
        assert squad["open_clues"] == sum(c["squad_code"] == code for c in working.json())

    district = await client.get(
        "/api/v1/map/squads", headers=auth(live_server.token(Role.OPERATOR, jurisdiction="331121"))
    )
    assert [s["code"] for s in district.json()] == ["QT-01"]
    own = await client.get(
        "/api/v1/map/squads", headers=auth(live_server.token(Role.SQUAD, squad="LD-02"))
    )
    assert [s["code"] for s in own.json()] == ["LD-02"]


async def test_suggested_squads_are_ranked_as_dispatch_ranks_them(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    operator = live_server.token(Role.OPERATOR)
    clue = await clue_of(client, operator, await tip_id(client, at=LIANDU))
    answer = await client.get(f"/api/v1/clues/{clue['id']}/candidates", headers=auth(operator))
    assert answer.status_code == 200, answer.text
    ranked = answer.json()
    # The same terms automatic dispatch weighed, with this clue now in its squad's workload.
    events = (await client.get(f"/api/v1/clues/{clue['id']}/events", headers=auth(operator))).json()
    [dispatched] = [e["data"] for e in events if e["type"] == "clue.dispatched"]
    suggested = {c["squad_code"]: c for c in ranked}
    for weighed in dispatched["ranking"]["chosen"] + dispatched["ranking"]["next"]:
        now = suggested[weighed["squad_code"]]
        assert now["distance_m"] == weighed["distance_m"]
        mine = weighed["squad_code"] == clue["squad_code"]
        assert now["open_clues"] == weighed["open_clues"] + mine
    assert [c["rank"] for c in ranked if c["eligible"]] == list(range(1, len(ranked)))
    assert {c["squad_code"] for c in ranked} == {"LD-01", "LD-02", "LD-03"}
    off = next(c for c in ranked if c["squad_code"] == "LD-03")
    assert off["eligible"] is False and off["rank"] is None and ranked[-1] == off
    assert all(c["name"].startswith("莲都区") and c["distance_m"] > 0 for c in ranked)
    eligible = [c for c in ranked if c["eligible"]]
    assert [c["score"] for c in eligible] == sorted(c["score"] for c in eligible)

    other = await client.get(
        f"/api/v1/clues/{clue['id']}/candidates",
        params={"department": "市场监督管理局"},
        headers=auth(operator),
    )
    assert [c["squad_code"] for c in other.json()] == ["CITY-SJ-01"]
    squad = live_server.token(Role.SQUAD, squad=clue["squad_code"])
    refused = await client.get(f"/api/v1/clues/{clue['id']}/candidates", headers=auth(squad))
    assert refused.status_code == 403


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), "orange").save(out, "JPEG")
    return out.getvalue()


async def test_evidence_is_listed_and_served_to_those_who_see_the_clue(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    tip = await client.post(
        "/api/v1/public/tips",
        data={"service_code": "CG-005", "lon": "119.95", "lat": "28.44", "crs": "wgs84"},
        files=[("photos", ("a.jpg", jpeg(), "image/jpeg"))],
    )
    assert tip.status_code == 201, tip.text
    operator = live_server.token(Role.OPERATOR)
    clue = await clue_of(client, operator, tip.json()["service_request_id"])
    listed = await client.get(f"/api/v1/clues/{clue['id']}/evidence", headers=auth(operator))
    [photo] = listed.json()
    assert photo["kind"] == "photo" and photo["media_type"] == "image/jpeg"
    content = await client.get(photo["url"], headers=auth(operator))
    assert content.status_code == 200 and content.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(content.content).hexdigest() == photo["sha256"]

    squad = live_server.token(Role.SQUAD, squad=clue["squad_code"])
    assert (await client.get(photo["url"], headers=auth(squad))).status_code == 200
    stranger = live_server.token(Role.SQUAD, squad="QY-01")
    assert (await client.get(photo["url"], headers=auth(stranger))).status_code == 403
    other = await clue_of(client, operator, await tip_id(client, at=LIANDU))
    wrong = f"/api/v1/clues/{other['id']}/evidence/{photo['id']}"
    assert (await client.get(wrong, headers=auth(operator))).status_code == 404


async def test_who_is_on_duty_follows_the_roster_as_dispatch_does(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database
) -> None:
    """LD-03's flag says off duty but a shift covers the whole of today; LD-02's flag says
    on duty but its only shift is tomorrow: the wall, the desk and QGIS must show what
    dispatch will do, not the flag."""
    today = datetime.now(ZoneInfo("Asia/Shanghai"))
    tomorrow = (today + timedelta(days=1)).isoweekday()
    shifts = [
        ("LD-03", today.isoweekday(), "00:00", "00:00"),
        ("LD-02", tomorrow, "08:00", "09:00"),
    ]
    async with database.transaction() as session:
        for squad, weekday, starts, ends in shifts:
            await session.execute(
                text(
                    "INSERT INTO squad_shifts (squad_code, weekday, starts, ends, on_holidays) "
                    "VALUES (:s, :w, CAST(:a AS time), CAST(:b AS time), true)"
                ),
                {"s": squad, "w": weekday, "a": starts, "b": ends},
            )
    try:
        operator = auth(live_server.token(Role.OPERATOR))
        squads = {
            s["code"]: s for s in (await client.get("/api/v1/map/squads", headers=operator)).json()
        }
        assert (squads["LD-03"]["on_duty"], squads["LD-02"]["on_duty"]) == (True, False)
        assert squads["LD-01"]["on_duty"] is True  # no shifts: its flag
        for code, expected in (("LD-03", True), ("LD-02", False)):
            item = await client.get(f"/ogc/collections/squads/items/{code}", headers=operator)
            assert item.status_code == 200, item.text
            assert item.json()["properties"]["on_duty"] is expected
    finally:
        async with database.transaction() as session:
            await session.execute(
                text("DELETE FROM squad_shifts WHERE squad_code IN ('LD-02', 'LD-03')")
            )
