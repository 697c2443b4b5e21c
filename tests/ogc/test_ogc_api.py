"""The OGC API on a live server: exact requests of OGC API – Features Part 1 and Tiles,
and two clients we did not write — GDAL's OAPIF driver (what QGIS uses) and owslib."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from owslib.ogcapi.features import Features

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.history import SimClue

CORE = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
GEOJSON = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"
NOVEMBER_WEEK = "2025-11-17T00:00:00+08:00/2025-11-24T00:00:00+08:00"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def get(client: httpx.AsyncClient, token: str, path: str, **params: str) -> httpx.Response:
    return await client.get(path, params=params, headers=bearer(token))


def rel(body: dict[str, Any], name: str) -> str:
    return next(link["href"] for link in body["links"] if link["rel"] == name)


async def test_landing_conformance_and_collections(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    admin = live_server.token(Role.ADMIN)
    landing = await get(client, admin, "/ogc")
    assert landing.status_code == 200 and landing.headers["content-type"] == "application/json"
    body = landing.json()
    assert rel(body, "conformance") == f"{live_server.url}/ogc/conformance"
    assert rel(body, "data") == f"{live_server.url}/ogc/collections"
    assert rel(body, "service-desc") == f"{live_server.url}/openapi.json"
    conforms = (await get(client, admin, "/ogc/conformance")).json()["conformsTo"]
    assert CORE in conforms and GEOJSON in conforms
    collections = (await get(client, admin, "/ogc/collections")).json()["collections"]
    assert [c["id"] for c in collections] == ["jurisdictions", "open_clues", "squads"]
    squads = next(c for c in collections if c["id"] == "squads")
    west, south, east, north = squads["extent"]["spatial"]["bbox"][0]
    assert 118 < west < east < 121 and 27 < south < north < 29  # the Lishui squads
    assert rel(squads, "items").endswith("/ogc/collections/squads/items")


async def test_items_page_through_next_links_to_every_feature(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    admin = live_server.token(Role.ADMIN)
    first = await get(client, admin, "/ogc/collections/squads/items", limit="5")
    assert first.headers["content-type"] == "application/geo+json"
    page = first.json()
    assert page["type"] == "FeatureCollection" and page["numberReturned"] == 5
    seen = [f["id"] for f in page["features"]]
    while any(link["rel"] == "next" for link in page["links"]):
        page = (await client.get(rel(page, "next"), headers=bearer(admin))).json()
        seen += [f["id"] for f in page["features"]]
    assert len(seen) == len(set(seen)) == first.json()["numberMatched"] == 16
    feature = page["features"][-1]
    assert feature["geometry"]["type"] == "Point" and "department" in feature["properties"]


async def test_bbox_datetime_and_one_item(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    admin = live_server.token(Role.ADMIN)
    qingtian = await get(
        client, admin, "/ogc/collections/jurisdictions/items", bbox="120.15,28.20,120.16,28.22"
    )
    assert {f["id"] for f in qingtian.json()["features"]} == {"331100", "331121"}
    week = await get(client, admin, "/ogc/collections/open_clues/items", datetime=NOVEMBER_WEEK)
    ids = {int(f["id"]) for f in week.json()["features"]}
    # open at the end of the scenario and received that week: A7 A8 A11 B2 (A3 was closed)
    assert ids == {history[name].id for name in ("A7", "A8", "A11", "B2")}
    b2 = await get(client, admin, f"/ogc/collections/open_clues/items/{history['B2'].id}")
    assert b2.headers["content-type"] == "application/geo+json"
    props = b2.json()["properties"]
    assert (props["state"], props["squad_code"], props["overdue"]) == (
        "accepted",
        "CITY-HB-01",
        True,
    )
    assert "reporter_phone" not in props and "phone" not in str(props)


async def test_what_a_squad_and_a_district_see(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    squad = live_server.token(Role.SQUAD, squad="CITY-HB-01")
    clues = (await get(client, squad, "/ogc/collections/open_clues/items", limit="1000")).json()
    assert clues["features"] and {f["properties"]["squad_code"] for f in clues["features"]} == {
        "CITY-HB-01"
    }
    hidden = await get(client, squad, f"/ogc/collections/open_clues/items/{history['A7'].id}")
    assert hidden.status_code == 404  # not even acknowledged
    mine = (await get(client, squad, "/ogc/collections/squads/items")).json()
    assert [f["id"] for f in mine["features"]] == ["CITY-HB-01"]

    qingtian = live_server.token(Role.OPERATOR, jurisdiction="331121")
    places = (await get(client, qingtian, "/ogc/collections/jurisdictions/items")).json()
    assert [f["id"] for f in places["features"]] == ["331121"]
    squads = (await get(client, qingtian, "/ogc/collections/squads/items", limit="50")).json()
    codes = {f["id"] for f in squads["features"]}
    assert "QT-01" in codes and "CITY-HB-01" in codes and "LD-01" not in codes
    far = (await get(client, qingtian, "/ogc/collections/open_clues/items", limit="1000")).json()
    assert all(f["properties"]["jurisdiction_code"] == "331121" for f in far["features"])


@pytest.mark.parametrize(
    ("path", "params", "status", "problem"),
    [
        ("/ogc/collections/nothing/items", {}, 404, "no collection"),
        ("/ogc/collections/squads/items/NOPE", {}, 404, "no feature"),
        ("/ogc/collections/squads/items", {"colour": "red"}, 400, "unknown query parameter"),
        ("/ogc/collections/squads/items", {"bbox": "1,2,3"}, 400, "bbox"),
        ("/ogc/collections/squads/items", {"limit": "0"}, 400, "limit"),
        ("/ogc/collections/open_clues/items", {"datetime": "2025-11-17T00:00"}, 400, "time zone"),
        ("/ogc/collections/squads/items", {"f": "html"}, 400, "f must be json"),
        ("/ogc/collections/squads/tiles/WorldCRS84Quad", {}, 400, "WebMercatorQuad"),
        ("/ogc/collections/squads/tiles/WebMercatorQuad/3/9/1", {}, 400, "0..7"),
    ],
)
async def test_bad_requests_are_named(
    live_server: LiveServer,
    client: httpx.AsyncClient,
    path: str,
    params: dict[str, str],
    status: int,
    problem: str,
) -> None:
    response = await get(client, live_server.token(Role.ADMIN), path, **params)
    assert response.status_code == status
    assert problem in response.json()["detail"]


async def test_without_a_reader_token_nothing_is_served(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/ogc/collections")).status_code == 401
    device = live_server.token(Role.DEVICE, device="BC-0001")
    assert (await get(client, device, "/ogc/collections")).status_code in (401, 403)


def gdal(server: LiveServer, token: str, *args: str) -> str:
    env = {**os.environ, "GDAL_HTTP_HEADERS": f"Authorization: Bearer {token}"}
    done = subprocess.run(
        ["ogrinfo", "-ro", *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_gdal_opens_the_layers_as_qgis_does(
    live_server: LiveServer, history: dict[str, SimClue]
) -> None:
    admin = live_server.token(Role.ADMIN)
    source = f"OAPIF:{live_server.url}/ogc"
    layers = gdal(live_server, admin, source)
    for line in ("jurisdictions", "open_clues (title: Open clues 在办线索) (Point)", "squads"):
        assert line in layers
    summary = gdal(live_server, admin, "-so", source, "squads")
    assert "Feature Count: 16" in summary and "department: String" in summary
    near = gdal(
        live_server, admin, "-q", source, "squads", "-spat", "120.2", "28.1", "120.3", "28.2"
    )
    assert "QT-01" in near and "LD-01" not in near
    squad = live_server.token(Role.SQUAD, squad="CITY-HB-01")
    assert "Feature Count: 1" in gdal(live_server, squad, "-so", source, "squads")


async def test_owslib_reads_collections_items_and_one_item(live_server: LiveServer) -> None:
    headers = bearer(live_server.token(Role.SUPERVISOR))
    api = Features(f"{live_server.url}/ogc", headers=headers)
    assert CORE in api.conformance()["conformsTo"]
    assert {c["id"] for c in api.collections()["collections"]} >= {"open_clues", "squads"}
    districts = api.collection_items("jurisdictions", limit=20, bbox=[119.0, 27.5, 120.5, 29.0])
    assert districts["numberMatched"] == 10
    assert (
        api.collection_item("squads", "LD-01")["properties"]["name"] == "莲都区综合行政执法队一中队"
    )


def decoded(tile: bytes) -> str:
    """A Mapbox vector tile as GDAL's MVT driver reads it."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tile.mvt"
        path.write_bytes(tile)
        done = subprocess.run(
            ["ogrinfo", "-ro", "-al", "-q", f"MVT:{path}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    return done.stdout


async def test_vector_tiles_carry_the_features_of_the_scope(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    matrix = await get(client, live_server.token(Role.ADMIN), "/ogc/tileMatrixSets/WebMercatorQuad")
    levels = matrix.json()["tileMatrices"]
    assert len(levels) == 23 and levels[10]["matrixWidth"] == 1024
    tilesets = await get(client, live_server.token(Role.ADMIN), "/ogc/collections/open_clues/tiles")
    template = next(
        link["href"] for link in tilesets.json()["tilesets"][0]["links"] if link["rel"] == "item"
    )
    assert template.endswith("/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")
    # 莲都 at zoom 10 is tile column 852, row 427
    path = "/ogc/collections/open_clues/tiles/WebMercatorQuad/10/427/852"
    tiles = {}
    for name, token in (
        ("admin", live_server.token(Role.ADMIN)),
        ("ecology", live_server.token(Role.SQUAD, squad="CITY-HB-01")),
    ):
        response = await get(client, token, path)
        assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"
        tiles[name] = decoded(response.content)
    assert history["B2"].code in tiles["admin"] and history["A7"].code in tiles["admin"]
    assert history["B2"].code in tiles["ecology"] and history["A7"].code not in tiles["ecology"]
