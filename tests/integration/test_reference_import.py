"""Importing jurisdictions, matters and squads into the real PostGIS database."""

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text

from command_center.db.session import Database
from command_center.errors import ImportRefused
from command_center.jurisdictions import service as jurisdictions_service
from command_center.squads import service as squads_service
from gis.crs import wgs84_to_gcj02

# A small test city far from the demo one (in Hainan), so the two never overlap.
LON, LAT = 110.30, 20.00


def square(x: float, y: float, size: float) -> list[list[list[float]]]:
    return [[[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]]


def feature(code: str, level: str, parent: str | None, rings: Any, kind: str = "Polygon") -> dict:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": f"测试{code}", "level": level, "parent_code": parent},
        "geometry": {"type": kind, "coordinates": rings},
    }


def collection(*features: dict) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


@pytest.fixture
async def tidy(database: Database) -> AsyncIterator[Database]:
    yield database
    async with database.transaction() as session:
        await session.execute(text("DELETE FROM squad_jurisdictions WHERE squad_code LIKE 'T-%'"))
        await session.execute(text("DELETE FROM squads WHERE code LIKE 'T-%'"))
        await session.execute(
            text("DELETE FROM jurisdictions WHERE code LIKE 'T%' AND level <> 'city'")
        )
        await session.execute(text("DELETE FROM jurisdictions WHERE code LIKE 'T%'"))


async def stored(db: Database, code: str) -> dict[str, Any] | None:
    async with db.sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT name, level, parent_code, path, ST_SRID(geom) AS srid, "
                    "GeometryType(geom) AS kind, ST_IsValid(geom) AS valid, "
                    "ST_XMin(geom) AS xmin FROM jurisdictions WHERE code = :code"
                ),
                {"code": code},
            )
        ).one_or_none()
    return dict(row._mapping) if row else None


async def test_the_demo_city_is_loaded_with_paths_and_a_spatial_index(database: Database) -> None:
    async with database.sessions() as session:
        levels = dict(
            (
                await session.execute(
                    text(
                        "SELECT level, count(*) FROM jurisdictions "
                        "WHERE code LIKE '3311%' GROUP BY level"
                    )
                )
            ).all()
        )
        index = (
            await session.execute(
                text("SELECT indexdef FROM pg_indexes WHERE indexname = 'jurisdictions_geom_gist'")
            )
        ).scalar_one()
    assert levels == {"city": 1, "district": 9}
    assert "USING gist (geom)" in index
    lishan = await stored(database, "331102")
    assert lishan is not None
    assert lishan["path"] == ["331100", "331102"]
    assert lishan["srid"] == 4326
    assert lishan["kind"] == "MULTIPOLYGON"


async def test_import_then_reimport_updates_by_code(tidy: Database) -> None:
    first = collection(
        feature("T1", "city", None, square(LON, LAT, 0.2)),
        feature("T1-1", "district", "T1", square(LON, LAT, 0.1)),
    )
    async with tidy.transaction() as session:
        summary = await jurisdictions_service.import_geojson(session=session, data=first)
    assert (summary.inserted, summary.updated) == (2, 0)
    renamed = json.loads(first)
    renamed["features"][1]["properties"]["name"] = "改名区"
    async with tidy.transaction() as session:
        summary = await jurisdictions_service.import_geojson(
            session=session, data=json.dumps(renamed)
        )
    assert (summary.inserted, summary.updated) == (0, 2)
    district = await stored(tidy, "T1-1")
    assert district is not None
    assert district["name"] == "改名区"
    assert district["path"] == ["T1", "T1-1"]


async def test_an_invalid_geometry_is_repaired_and_reported(tidy: Database) -> None:
    bow_tie = [[[LON, LAT], [LON + 0.1, LAT + 0.1], [LON + 0.1, LAT], [LON, LAT + 0.1], [LON, LAT]]]
    async with tidy.transaction() as session:
        summary = await jurisdictions_service.import_geojson(
            session=session, data=collection(feature("T2", "city", None, bow_tie))
        )
    assert summary.repaired == ["T2"]
    row = await stored(tidy, "T2")
    assert row is not None
    assert row["valid"] is True


async def test_an_error_in_one_feature_stores_nothing_and_names_it(tidy: Database) -> None:
    data = collection(
        feature("T3", "city", None, square(LON, LAT, 0.2)),
        feature("T3-1", "district", "T3", [[LON, LAT], [LON + 1, LAT]], kind="LineString"),
    )
    with pytest.raises(ImportRefused, match="T3-1"):
        async with tidy.transaction() as session:
            await jurisdictions_service.import_geojson(session=session, data=data)
    assert await stored(tidy, "T3") is None


async def test_an_unknown_parent_is_refused(tidy: Database) -> None:
    with pytest.raises(ImportRefused, match="unknown parent_code: NOPE"):
        async with tidy.transaction() as session:
            await jurisdictions_service.import_geojson(
                session=session,
                data=collection(feature("T4", "district", "NOPE", square(LON, LAT, 0.1))),
            )
    assert await stored(tidy, "T4") is None


async def test_a_parent_that_descends_from_its_child_is_refused(tidy: Database) -> None:
    async with tidy.transaction() as session:
        await jurisdictions_service.import_geojson(
            session=session,
            data=collection(
                feature("T5", "city", None, square(LON, LAT, 0.2)),
                feature("T5-1", "district", "T5", square(LON, LAT, 0.1)),
            ),
        )
    # The stored city is made a child of its own district: a cycle through stored rows.
    with pytest.raises(ImportRefused, match="cycle through: T5"):
        async with tidy.transaction() as session:
            await jurisdictions_service.import_geojson(
                session=session,
                data=collection(feature("T5", "city", "T5-1", square(LON, LAT, 0.2))),
            )
    city = await stored(tidy, "T5")
    assert city is not None
    assert (city["parent_code"], city["path"]) == (None, ["T5"]), "nothing changed"


async def test_thousands_of_grid_cells_import_with_their_paths(tidy: Database) -> None:
    step = 0.2 / 50
    cells = [
        feature(f"T6-{i:02d}{j:02d}", "grid", "T6", square(LON + i * step, LAT + j * step, step))
        for i in range(50)
        for j in range(50)
    ]  # 2,500 cells: several batches of the upsert
    async with tidy.transaction() as session:
        summary = await jurisdictions_service.import_geojson(
            session=session,
            data=collection(feature("T6", "city", None, square(LON, LAT, 0.2)), *cells),
        )
    assert (summary.inserted, summary.updated) == (2501, 0)
    corner = await stored(tidy, "T6-4949")
    assert corner is not None
    assert (corner["level"], corner["path"]) == ("grid", ["T6", "T6-4949"])


async def test_gcj02_boundaries_are_stored_in_wgs84(tidy: Database) -> None:
    gcj_ring = [[list(wgs84_to_gcj02(x, y)) for x, y in square(LON, LAT, 0.2)[0]]]
    async with tidy.transaction() as session:
        await jurisdictions_service.import_geojson(
            session=session, data=collection(feature("T5", "city", None, gcj_ring)), crs="gcj02"
        )
    row = await stored(tidy, "T5")
    assert row is not None
    assert row["xmin"] == pytest.approx(LON, abs=1e-6)


async def test_squads_naming_an_unknown_jurisdiction_are_refused_by_line(tidy: Database) -> None:
    csv_text = (
        "code,name,department,jurisdictions,lon,lat,on_duty\n"
        "T-1,测试一队,综合行政执法局,331102,119.9,28.45,true\n"
        "T-2,测试二队,综合行政执法局,331102;NOWHERE,119.9,28.45,true\n"
    )
    with pytest.raises(ImportRefused, match="line 3: unknown jurisdiction NOWHERE"):
        async with tidy.transaction() as session:
            await squads_service.import_csv(session=session, text=csv_text)
    async with tidy.sessions() as session:
        assert not await squads_service.exists(session=session, code="T-1")
