"""Hot spots over the generated November (H3 cells: the demo city has no grid), and over
grid cells loaded inside a transaction that is rolled back."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import h3
import httpx
from shapely.geometry import Point, shape
from sqlalchemy import text

from command_center.auth.model import Role
from command_center.auth.scope import Scope
from command_center.db.session import Database
from command_center.hotspots import service
from command_center.hotspots.model import Cells
from command_center.jurisdictions import service as jurisdictions_service
from command_center.stats.periods import parse_month
from tests.conftest import LiveServer
from tests.history import SimClue

LIANDU, QINGTIAN = (119.8218, 28.4719), (120.1547, 28.2108)
NOVEMBER = {"period": "month", "month": "2025-11"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_the_ranking_of_h3_cells_for_patrol_planning(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    response = await client.get(
        "/api/v1/stats/hotspots", params=NOVEMBER, headers=bearer(live_server.token(Role.ADMIN))
    )
    body = response.json()
    assert (body["cells"], body["resolution"]) == ("h3", 9)
    first, second = body["ranking"][:2]
    # every November clue at the 莲都 point but the cancelled A6 and the merged A12
    assert first["cell"] == h3.latlng_to_cell(LIANDU[1], LIANDU[0], 9)
    assert (first["rank"], first["clues"], first["reports"]) == (1, 11, 12)  # A12 in A1
    assert [m["code"] for m in first["top_matters"]] == ["CG-001", "HB-001"]
    assert first["top_matters"][0]["clues"] == 9
    assert (first["peak_hour"], first["by_hour"][8], first["by_hour"][9]) == (8, 4, 3)
    assert first["peak_weekday"] == 2 and first["by_weekday"][:3] == [1, 3, 3]
    assert second["cell"] == h3.latlng_to_cell(QINGTIAN[1], QINGTIAN[0], 9)
    assert second["clues"] == 1 and body["total"] == 12


async def test_filters_and_the_heatmap_layer(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    admin = bearer(live_server.token(Role.ADMIN))
    eight = await client.get(
        "/api/v1/stats/hotspots", params={**NOVEMBER, "hour": 8}, headers=admin
    )
    assert eight.json()["total"] == 4
    ecology = await client.get(
        "/api/v1/stats/hotspots", params={**NOVEMBER, "matter": "HB-001"}, headers=admin
    )
    assert [s["clues"] for s in ecology.json()["ranking"]] == [2]
    layer = await client.get(
        "/api/v1/stats/hotspots.geojson", params={**NOVEMBER, "resolution": 8}, headers=admin
    )
    assert layer.headers["content-type"] == "application/geo+json"
    features = layer.json()["features"]
    assert [f["properties"]["intensity"] for f in features] == [1.0, round(1 / 11, 4)]
    assert shape(features[0]["geometry"]).contains(Point(*LIANDU))
    assert features[0]["properties"]["top_matter"] == "CG-001"
    squad = bearer(live_server.token(Role.SQUAD, squad="QT-01"))
    mine = await client.get("/api/v1/stats/hotspots", params=NOVEMBER, headers=squad)
    assert mine.json()["total"] == 1


GRID = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "code": f"T-GRID-{n}",
                "name": f"测试网格{n}",
                "level": "grid",
                "parent_code": "331102",
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [
                        [lon, 28.0],
                        [lon + 0.01, 28.0],
                        [lon + 0.01, 28.01],
                        [lon, 28.01],
                        [lon, 28.0],
                    ]
                ],
            },
        }
        for n, lon in ((1, 119.70), (2, 119.71))
    ],
}


async def test_grid_cells_are_used_where_a_grid_is_loaded(database: Database) -> None:
    """In one transaction that is rolled back: no other test sees these cells."""
    async with database.sessions() as session:
        await session.begin()
        await jurisdictions_service.import_geojson(session=session, data=json.dumps(GRID))
        for n, (cell, lon) in enumerate([("T-GRID-1", 119.705)] * 2 + [("T-GRID-2", 119.715)]):
            await session.execute(
                text(
                    "INSERT INTO clues (id, service_request_id, channel, matter_code, location, "
                    "submitted_crs, jurisdiction_code, jurisdiction_path, department, state, "
                    "created_at, updated_at) VALUES (nextval('clues_id_seq'), :code, 'grid', "
                    "'CG-001', ST_SetSRID(ST_MakePoint(:lon, 28.005), 4326), 'wgs84', :cell, "
                    "ARRAY['331100', '331102', :cell], '综合行政执法局', 'received', :at, :at)"
                ),
                {
                    "code": f"GRIDTEST{n}",
                    "lon": lon,
                    "cell": cell,
                    "at": datetime(2025, 10, 15, 2, 0, tzinfo=UTC),
                },
            )
        found = await service.hotspots(
            session=session,
            period=parse_month("2025-10", ZoneInfo("Asia/Shanghai")),
            now=datetime(2026, 1, 1, tzinfo=UTC),
            scope=Scope(jurisdiction="331102"),
            cells=Cells.AUTO,
            resolution=9,
            matters=[],
            hour=None,
            weekday=None,
        )
        assert found.cells is Cells.GRID
        assert [(s.cell, s.name, s.clues) for s in found.spots] == [
            ("T-GRID-1", "测试网格1", 2),
            ("T-GRID-2", "测试网格2", 1),
        ]
        assert found.spots[0].peak_hour == 10  # 02:00 UTC is 10:00 in Shanghai
        polygons = await service.shapes(session=session, found=found, limit=5)
        assert shape(polygons["T-GRID-1"]).contains(Point(119.705, 28.005))
        await session.rollback()
    async with database.sessions() as session:
        left = await session.execute(
            text("SELECT count(*) FROM jurisdictions WHERE level = 'grid'")
        )
        assert left.scalar_one() == 0
