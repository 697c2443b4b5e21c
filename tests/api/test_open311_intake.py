"""Public intake and status by Open311 GeoReport v2, against a live server."""

import httpx
from sqlalchemy import text

from command_center.db.session import Database
from gis.crs import wgs84_to_gcj02
from tests.support import LIANDU, post_tip, tip_id


async def count_clues(database: Database) -> int:
    async with database.sessions() as session:
        return int((await session.execute(text("SELECT count(*) FROM clues"))).scalar_one())


async def test_a_tip_is_answered_with_its_public_id_and_notice(client: httpx.AsyncClient) -> None:
    response = await post_tip(client, description="占道卖水果", email="a@example.org")
    assert response.status_code == 200
    [answer] = response.json()
    assert answer["service_request_id"].isdigit()
    assert "综合行政执法局" in answer["service_notice"]
    assert answer["account_id"] is None


async def test_the_public_status_shows_department_and_times(client: httpx.AsyncClient) -> None:
    sid = await tip_id(client, description="人行道上摆摊", phone="13800138000", exact=True)
    response = await client.get(f"/open311/v2/requests/{sid}.json")
    assert response.status_code == 200
    [request] = response.json()
    assert request["service_request_id"] == sid
    assert request["status"] == "open"
    assert request["agency_responsible"] == "综合行政执法局"
    assert request["requested_datetime"].endswith("+08:00")
    # the public sees the position snapped to PUBLIC_LOCATION_PRECISION_M (100 m)
    assert abs(request["long"] - LIANDU[0]) < 0.001 and abs(request["lat"] - LIANDU[1]) < 0.001
    assert (request["long"], request["lat"]) != LIANDU
    assert "13800138000" not in response.text  # the reporter's phone is not public


async def test_a_gcj02_tip_is_stored_in_wgs84(
    client: httpx.AsyncClient, database: Database
) -> None:
    lon, lat = wgs84_to_gcj02(*LIANDU)
    sid = await tip_id(client, at=(lon, lat), crs="gcj02", exact=True)
    async with database.sessions() as session:
        stored = (
            await session.execute(
                text(
                    "SELECT ST_X(location), ST_Y(location) FROM clues "
                    "WHERE service_request_id = :sid"
                ),
                {"sid": sid},
            )
        ).one()
    assert abs(stored[0] - LIANDU[0]) < 1e-6
    assert abs(stored[1] - LIANDU[1]) < 1e-6


async def test_outside_every_jurisdiction_is_a_400_and_nothing_is_stored(
    client: httpx.AsyncClient, database: Database
) -> None:
    before = await count_clues(database)
    response = await post_tip(client, at=(121.47, 31.23))
    assert response.status_code == 400
    assert response.json() == [{"code": 400, "description": response.json()[0]["description"]}]
    assert "outside every jurisdiction" in response.json()[0]["description"]
    assert await count_clues(database) == before


async def test_an_unknown_service_code_is_a_400_naming_it(
    client: httpx.AsyncClient, database: Database
) -> None:
    before = await count_clues(database)
    response = await post_tip(client, service_code="NO-SUCH")
    assert response.status_code == 400
    assert response.json()[0]["description"] == "unknown service_code 'NO-SUCH'"
    assert await count_clues(database) == before


async def test_out_of_range_coordinates_are_a_400(client: httpx.AsyncClient) -> None:
    response = await post_tip(client, at=(119.8, 95.0), exact=True)
    assert response.status_code == 400
    assert "lat 95.0 is outside -90..90" in response.json()[0]["description"]


async def test_json_bodies_are_refused_with_a_hint(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/open311/v2/requests.json", json={"service_code": "CG-001", "lat": 28.4, "long": 119.8}
    )
    assert response.status_code == 400
    assert "form-encoded" in response.json()[0]["description"]


async def test_an_unknown_request_id_is_a_404_in_open311_form(client: httpx.AsyncClient) -> None:
    response = await client.get("/open311/v2/requests/999999999.json")
    assert response.status_code == 404
    assert response.json()[0]["code"] == 404


async def test_health_reports_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["redis"] in {"ok", "not configured (in-process bus)"}
