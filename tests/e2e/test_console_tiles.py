"""A city's own tile server in GCJ-02: the wall asks it, and only it, for tiles, draws
every overlay shifted into GCJ-02 exactly as gis.crs computes, and the English switch
keeps the token."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from command_center.auth.model import Role
from command_center.db.session import Database
from command_center.settings import Settings
from gis.crs import gcj02_to_wgs84, wgs84_to_gcj02
from tests.conftest import LiveServer, start_server
from tests.e2e.conftest import WALL, Chromium, needs_chromium, screenshot

pytestmark = needs_chromium


def _tile() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (40, 60, 90)).save(out, "PNG")
    return out.getvalue()


class TileServer(ThreadingHTTPServer):
    requested: list[str]


class Tiles(BaseHTTPRequestHandler):
    TILE = _tile()

    def do_GET(self) -> None:
        self.server.requested.append(self.path)  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()
        self.wfile.write(self.TILE)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tile_server() -> Iterator[TileServer]:
    server = TileServer(("127.0.0.1", 0), Tiles)
    server.requested = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def live_server(
    database: Database, settings: Settings, tile_server: TileServer
) -> Iterator[LiveServer]:
    port = tile_server.server_address[1]
    server = start_server(
        settings.model_copy(
            update={
                "map_tile_url": f"http://127.0.0.1:{port}/{{z}}/{{x}}/{{y}}.png",
                "map_tile_crs": "gcj02",
                "map_tile_attribution": "© 市规划和自然资源局",
            }
        )
    )
    yield server
    server.stop()


async def test_gcj02_tiles_from_the_citys_server_with_overlays_shifted(
    live_server: LiveServer, chromium: Chromium, tile_server: TileServer
) -> None:
    operator = live_server.token(Role.OPERATOR)
    wall = await chromium.page(f"{live_server.url}/console/wall?token={operator}", WALL)
    await wall.wait_for_selector("body[data-state=ready]", timeout=15_000)
    await wall.wait_for_selector(".leaflet-tile-loaded", timeout=10_000)
    assert tile_server.requested and all(p.endswith(".png") for p in tile_server.requested)
    assert "市规划和自然资源局" in (await wall.text_content(".leaflet-control-attribution") or "")
    tile_port = tile_server.server_address[1]
    elsewhere = [
        u for u in chromium.requests.outside(live_server.port) if f":{tile_port}/" not in u
    ]
    assert elsewhere == []

    for lon, lat in [(119.9218, 28.4519), (120.1547, 28.2108), (116.3913, 39.9075)]:
        lat_drawn, lon_drawn = await wall.evaluate("([lon, lat]) => CC.toMap(lon, lat)", [lon, lat])
        assert (lon_drawn, lat_drawn) == pytest.approx(wgs84_to_gcj02(lon, lat), abs=1e-9)
        back = await wall.evaluate("([lng, lat]) => CC.fromMap({lng, lat})", [lon_drawn, lat_drawn])
        assert (back["lon"], back["lat"]) == pytest.approx((lon, lat), abs=1e-8)
        assert (back["lon"], back["lat"]) == pytest.approx(
            gcj02_to_wgs84(lon_drawn, lat_drawn), abs=1e-8
        )
    # A squad is drawn where a GCJ-02 map has its (live or base) position (the squads
    # layer holds one cluster group, whose markers are the squads).
    drawn = await wall.evaluate(
        "(() => { const group = MapKit.layer('squads').getLayers()[0];"
        " const m = group.getLayers()[0];"
        " const p = m.getLatLng(), at = m.squad.position || m.squad.base;"
        " return [p.lng, p.lat, at.lon, at.lat]; })()"
    )
    assert (drawn[0], drawn[1]) == pytest.approx(wgs84_to_gcj02(drawn[2], drawn[3]), abs=1e-9)

    await wall.click("#lang-switch")
    await wall.wait_for_selector("html[lang=en] body[data-state=ready]", timeout=15_000)
    assert "Enforcement situation wall" in await wall.title()
    await wall.wait_for_selector("#conn[data-status=connected]", timeout=10_000)
    await screenshot(wall, "wall-gcj02-tiles-en")
