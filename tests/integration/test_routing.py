"""Routing in PostGIS: point → smallest jurisdiction → department → nearest on-duty squad."""

import pytest

from command_center.db.session import Database
from command_center.dispatch import service as dispatch_service
from command_center.dispatch.model import DispatchPolicy
from command_center.dispatch.ranking import Weights
from command_center.squads import service as squads_service
from gis.crs import to_wgs84, wgs84_to_gcj02

# Other tests leave open clues behind; these tests are about place and duty, not workload.
DISTANCE_ONLY = DispatchPolicy(weights=Weights(per_open_clue=0.0))

# A point well inside each district of the demo city (WGS84), 5–10 km from any border.
INSIDE = {
    "331102": (119.8218, 28.4719),  # 莲都区
    "331121": (120.1547, 28.2108),  # 青田县
    "331122": (120.1929, 28.6517),  # 缙云县
    "331123": (119.0603, 28.4930),  # 遂昌县
    "331124": (119.3935, 28.4157),  # 松阳县
    "331125": (119.5204, 28.1426),  # 云和县
    "331126": (119.2177, 27.5917),  # 庆元县
    "331127": (119.6482, 27.8925),  # 景宁畲族自治县
    "331181": (119.1202, 28.0493),  # 龙泉市
}
DISTRICT_SQUAD = {
    "331102": {"LD-01", "LD-02"},
    "331121": {"QT-01"},
    "331122": {"JY-01"},
    "331123": {"SC-01"},
    "331124": {"SY-01"},
    "331125": {"YH-01"},
    "331126": {"QY-01"},
    "331127": {"JN-01"},
    "331181": {"LQ-01"},
}
# 200 m apart on either side of the 莲都区 / 青田县 border (WGS84).
LIANDU_SIDE = (119.831619, 28.293704)
QINGTIAN_SIDE = (119.833439, 28.292886)
STREET_STALLS = "CG-001"  # 综合行政执法局
NOISE_AT_NIGHT = "HB-002"  # 生态环境局: one city-wide squad


@pytest.mark.parametrize("district", sorted(INSIDE))
async def test_a_point_in_each_district_routes_to_that_districts_squad(
    database: Database, district: str
) -> None:
    lon, lat = INSIDE[district]
    async with database.sessions() as session:
        route = await dispatch_service.route(
            session=session, lon=lon, lat=lat, matter_code=STREET_STALLS
        )
    assert route.jurisdiction_code == district
    assert route.jurisdiction_path == ("331100", district)
    assert route.department == "综合行政执法局"
    assert route.squad_code in DISTRICT_SQUAD[district]


@pytest.mark.parametrize(
    ("wgs84", "district"), [(LIANDU_SIDE, "331102"), (QINGTIAN_SIDE, "331121")]
)
async def test_a_gcj02_point_near_a_border_lands_in_the_right_district(
    database: Database, wgs84: tuple[float, float], district: str
) -> None:
    # The phone reports GCJ-02, ~500 m off; read raw it could cross the border.
    gcj = wgs84_to_gcj02(*wgs84)
    lon, lat = to_wgs84(*gcj, "gcj02")
    async with database.sessions() as session:
        route = await dispatch_service.route(
            session=session, lon=lon, lat=lat, matter_code=STREET_STALLS
        )
    assert route.jurisdiction_code == district


async def test_a_point_outside_the_city_has_no_jurisdiction(database: Database) -> None:
    async with database.sessions() as session:
        route = await dispatch_service.route(
            session=session,
            lon=121.47,
            lat=31.23,
            matter_code=STREET_STALLS,  # Shanghai
        )
    assert route.jurisdiction_code is None
    assert route.squad_code is None


async def test_a_city_wide_squad_serves_every_district(database: Database) -> None:
    lon, lat = INSIDE["331126"]
    async with database.sessions() as session:
        route = await dispatch_service.route(
            session=session, lon=lon, lat=lat, matter_code=NOISE_AT_NIGHT
        )
    assert route.department == "生态环境局"
    assert route.squad_code == "CITY-HB-01"


async def test_the_nearest_on_duty_squad_wins_and_an_off_duty_one_is_skipped(
    database: Database,
) -> None:
    # Right at the base of LD-03 (碧湖), which is off duty in the demo roster.
    at_ld03 = (119.7796, 28.3455)
    async with database.sessions() as session:
        off = await dispatch_service.route(
            session=session,
            lon=at_ld03[0],
            lat=at_ld03[1],
            matter_code=STREET_STALLS,
            policy=DISTANCE_ONLY,
        )
    assert off.squad_code == "LD-02"  # the nearer of the two on duty
    async with database.transaction() as session:
        await squads_service.set_on_duty(session=session, code="LD-03", on_duty=True)
    try:
        async with database.sessions() as session:
            on = await dispatch_service.route(
                session=session,
                lon=at_ld03[0],
                lat=at_ld03[1],
                matter_code=STREET_STALLS,
                policy=DISTANCE_ONLY,
            )
        assert on.squad_code == "LD-03"
        assert on.distance_m is not None and on.distance_m < off.distance_m  # type: ignore[operator]
    finally:
        async with database.transaction() as session:
            await squads_service.set_on_duty(session=session, code="LD-03", on_duty=False)
