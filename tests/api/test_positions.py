"""Where the squads are: members' phones report by the OsmAnd protocol (GCJ-02 accepted),
the dispatcher ranks by the live position, and falls back to the base when it is old."""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text

from command_center.db.session import Database
from command_center.dispatch import service as dispatch_service
from command_center.dispatch.model import DispatchPolicy
from command_center.dispatch.ranking import Weights
from command_center.positions import service as positions_service
from gis.crs import wgs84_to_gcj02
from tests.conftest import LiveServer

# Near LD-02's base (119.858, 28.425) and ~7 km from LD-01's (119.918, 28.470).
CLUE = (119.8600, 28.4270)
DISTANCE_ONLY = DispatchPolicy(weights=Weights(per_open_clue=0.0))


async def route(database: Database, now: datetime) -> dispatch_service.Route:
    async with database.sessions() as session:
        return await dispatch_service.route(
            session=session,
            lon=CLUE[0],
            lat=CLUE[1],
            matter_code="CG-001",
            now=now,
            policy=DISTANCE_ONLY,
        )


async def test_a_live_position_beats_the_base_until_it_is_too_old(
    live_server: LiveServer, client: httpx.AsyncClient, database: Database
) -> None:
    async with database.transaction() as session:
        summary = await positions_service.import_members_csv(
            session=session,
            text_="code,name,squad,device_id,phone\nT-M1,测试队员,LD-01,t-phone-ld01,13900000000\n",
        )
    first, heading, issued = summary.splitlines()
    assert first == "1 members, 1 devices" and "shown this once" in heading
    member, device, tracker_id = issued.split()
    assert (member, device) == ("T-M1", "t-phone-ld01") and len(tracker_id) >= 32
    before = await route(database, datetime.now(UTC))
    assert before.squad_code == "LD-02"

    lon, lat = wgs84_to_gcj02(CLUE[0] + 0.0005, CLUE[1])  # the phone is right there, in GCJ-02
    now = datetime.now(UTC)
    response = await client.get(
        "/api/v1/positions/osmand",
        params={
            "id": tracker_id,
            "lat": lat,
            "lon": lon,
            "crs": "gcj02",
            "timestamp": int(now.timestamp()),
            "speed": 2.0,
            "bearing": 90,
            "batt": 77,
        },
    )
    assert response.status_code == 200, response.text
    live = await route(database, now + timedelta(minutes=1))
    assert live.squad_code == "LD-01"
    assert live.ranking[0]["position"] == "live"
    assert live.distance_m is not None and live.distance_m < 100
    stale = await route(database, now + timedelta(minutes=30))
    assert stale.squad_code == "LD-02"

    async with database.sessions() as session:
        speed = (
            await session.execute(
                text("SELECT speed FROM device_positions WHERE device_id = 't-phone-ld01'")
            )
        ).scalar_one()
    assert abs(speed - 2.0 * 0.514444) < 1e-3  # knots in, m/s stored


async def test_unknown_devices_and_bad_fields_are_refused(client: httpx.AsyncClient) -> None:
    unknown = await client.get(
        "/api/v1/positions/osmand", params={"id": "nobody", "lat": 28.4, "lon": 119.9}
    )
    assert unknown.status_code == 404
    # the device's name is not its tracker id: the same answer as for any unknown id
    by_name = await client.get(
        "/api/v1/positions/osmand", params={"id": "t-phone-ld01", "lat": 28.4, "lon": 119.9}
    )
    assert (by_name.status_code, by_name.content) == (404, unknown.content)
    bad = await client.post(
        "/api/v1/positions/osmand", data={"id": "t-phone-ld01", "lat": "x", "lon": "119.9"}
    )
    assert bad.status_code == 400
    assert "lat is not a number" in bad.json()["detail"]
