"""Clue exports with filters, as GeoJSON (read back by GDAL) and CSV."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import tempfile
from pathlib import Path

import httpx

from command_center.auth.model import Role
from tests.conftest import LiveServer
from tests.history import SimClue

WEEK = {"received_from": "2025-11-17", "received_to": "2025-11-23"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def gdal_features(geojson: bytes) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "clues.geojson"
        path.write_bytes(geojson)
        done = subprocess.run(
            ["ogrinfo", "-ro", "-al", "-so", str(path)], capture_output=True, text=True, timeout=60
        )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_geojson_of_a_department_and_a_week(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    response = await client.get(
        "/api/v1/exports/clues.geojson",
        params={**WEEK, "department": "生态环境局"},
        headers=bearer(live_server.token(Role.SUPERVISOR)),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/geo+json"
    body = json.loads(response.content)
    codes = [f["properties"]["service_request_id"] for f in body["features"]]
    assert codes == [history["B1"].code, history["B2"].code]
    b2 = body["features"][1]
    assert b2["geometry"] == {"type": "Point", "coordinates": [119.8218, 28.4719]}
    assert b2["properties"]["received_at"] == "2025-11-19T01:00:00Z"
    assert b2["properties"]["overdue"] is True
    summary = gdal_features(response.content)
    assert "Feature Count: 2" in summary and "Point" in summary


async def test_csv_with_bbox_states_and_scope(
    live_server: LiveServer, client: httpx.AsyncClient, history: dict[str, SimClue]
) -> None:
    admin = bearer(live_server.token(Role.ADMIN))
    qingtian = await client.get(
        "/api/v1/exports/clues.csv", params={**WEEK, "bbox": "120.0,28.0,120.3,28.4"}, headers=admin
    )
    assert qingtian.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(qingtian.text.lstrip("\ufeff"))))
    assert [r["service_request_id"] for r in rows] == [history["A10"].code]
    assert rows[0]["state"] == "closed" and rows[0]["lon"] == "120.1547000"
    assert not any("phone" in column or column == "name" for column in rows[0])

    closed = await client.get(
        "/api/v1/exports/clues.csv",
        params=[*WEEK.items(), ("state", "closed"), ("state", "cancelled")],
        headers=admin,
    )
    states = {r["state"] for r in csv.DictReader(io.StringIO(closed.text.lstrip("\ufeff")))}
    assert states == {"closed", "cancelled"}

    squad = bearer(live_server.token(Role.SQUAD, squad="CITY-HB-01"))
    mine = await client.get("/api/v1/exports/clues.csv", params=WEEK, headers=squad)
    squads = {r["squad_code"] for r in csv.DictReader(io.StringIO(mine.text.lstrip("\ufeff")))}
    assert squads == {"CITY-HB-01"}
    outside = await client.get(
        "/api/v1/exports/clues.csv",
        params={**WEEK, "jurisdiction": "331102"},
        headers=bearer(live_server.token(Role.OPERATOR, jurisdiction="331121")),
    )
    assert outside.text.lstrip("\ufeff").count("\n") == 1  # the header only


async def test_bad_filters_are_named(live_server: LiveServer, client: httpx.AsyncClient) -> None:
    admin = bearer(live_server.token(Role.ADMIN))
    bad_day = await client.get(
        "/api/v1/exports/clues.csv", params={"received_from": "17.11.2025"}, headers=admin
    )
    assert bad_day.status_code == 400 and "received_from" in bad_day.json()["detail"]
    bad_box = await client.get("/api/v1/exports/clues.geojson", params={"bbox": "x"}, headers=admin)
    assert bad_box.status_code == 400 and "bbox" in bad_box.json()["detail"]
    grid = bearer(live_server.token(Role.GRID_WORKER))
    assert (await client.get("/api/v1/exports/clues.csv", headers=grid)).status_code == 403


async def test_a_filter_the_database_cannot_read_is_an_error_not_a_cut_off_file(
    live_server: LiveServer, client: httpx.AsyncClient
) -> None:
    admin = bearer(live_server.token(Role.ADMIN))
    for fmt in ("csv", "geojson"):
        answer = await client.get(
            f"/api/v1/exports/clues.{fmt}", params={"department": "环保\x00局"}, headers=admin
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"] == "invalid_input"
