"""The consoles' pure pieces: viewport and grid, tile settings, the CSP tile source,
folium's assets all local, and both languages complete."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from command_center.console.model import BBox, cell_size, level_rank, start_of_day
from command_center.errors import InvalidInput
from command_center.settings import Settings
from web_console.assets import AssetError, localize
from web_console.i18n import CATALOGUES, pick_lang
from web_console.maps import Tiles, build
from web_console.pages import security_headers

URL = "postgresql+psycopg://u:p@127.0.0.1/x_test"


def test_a_viewport_is_parsed_clamped_and_refused_with_the_reason() -> None:
    assert BBox.parse("119,28,120.5,29") == BBox(119, 28, 120.5, 29)
    assert BBox.parse("-200,-95,200,95") == BBox(-180, -90, 180, 90)
    for text, words in [
        ("1,2,3", "west,south,east,north"),
        ("a,b,c,d", "four numbers"),
        ("1,2,nan,4", "finite"),
        ("3,2,1,4", "west < east"),
    ]:
        with pytest.raises(InvalidInput, match=words):
            BBox.parse(text)


def test_grid_cells_halve_with_each_zoom_and_stay_square_on_screen() -> None:
    dlon8, dlat8 = cell_size(8, 28.4)
    dlon9, _ = cell_size(9, 28.4)
    assert dlon9 == pytest.approx(dlon8 / 2)
    assert dlon8 == pytest.approx(360 / 256 * 64 / 256)
    assert dlat8 == pytest.approx(dlon8 * 0.8797, rel=1e-3)  # cos 28.4°
    with pytest.raises(InvalidInput):
        cell_size(23, 0)


def test_the_wall_day_starts_at_local_midnight() -> None:
    now = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # 01:30 on the 24th in Shanghai
    start = start_of_day(now, ZoneInfo("Asia/Shanghai"))
    assert start.isoformat() == "2026-11-24T00:00:00+08:00"
    assert level_rank("city") < level_rank("street")
    with pytest.raises(InvalidInput, match="level must be one of"):
        level_rank("province")


def test_tile_settings_are_checked() -> None:
    assert Settings(database_url=URL, _env_file=None).map_tile_url == ""  # type: ignore[call-arg]
    good = Settings(  # type: ignore[call-arg]
        database_url=URL, map_tile_url="https://t{s}.city.gov.cn/{z}/{x}/{y}.png", _env_file=None
    )
    assert good.map_tile_crs == "wgs84"
    for bad, words in [
        ("ftp://tiles/{z}/{x}/{y}", "must start with"),
        ("https://tiles.example/{z}/{x}.png", r"lacks \{y\}"),
    ]:
        with pytest.raises(ValidationError, match=words):
            Settings(database_url=URL, map_tile_url=bad, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        Settings(database_url=URL, map_tile_crs="bd09", _env_file=None)  # type: ignore[call-arg]


def test_the_csp_allows_exactly_the_tile_host() -> None:
    assert Tiles().img_source() is None
    assert Tiles(url="/tiles/{z}/{x}/{y}.png").img_source() is None
    assert Tiles(url="https://tiles.city.gov.cn/{z}/{x}/{y}.png").img_source() == (
        "https://tiles.city.gov.cn"
    )
    amap = "https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}&style=8"
    assert Tiles(url=amap, subdomains="1234").img_source() == "https://*.is.autonavi.com"
    assert Tiles(url="http://{s}.t.cn/{z}/{x}/{y}").img_source() == "http://*.t.cn"
    assert Tiles(url="http://map.{s}.cn/{z}/{x}/{y}").img_source() == "http:"
    policy = security_headers(Tiles(url=amap))["Content-Security-Policy"]
    assert "img-src 'self' data: blob: https://*.is.autonavi.com;" in policy


def test_folium_maps_name_only_local_assets() -> None:
    parts = build(Tiles(), overlays=(("clues", "线索"),), heat_title="热力")
    html = parts.header + parts.html + parts.script
    assert not re.search(r"https?://", html)
    assert "/console/vendor/leaflet/leaflet.js" in html
    assert "/console/vendor/folium/leaflet_heat.min.js" in html
    assert set(parts.layers) == {"clues", "heat"} and parts.map_var.startswith("map_")
    tiled = build(Tiles(url="https://tiles.city.gov.cn/{z}/{x}/{y}.png"), overlays=())
    assert "https://tiles.city.gov.cn/{z}/{x}/{y}.png" in tiled.script


def test_an_asset_without_a_local_copy_is_refused() -> None:
    class Element:
        def __init__(self) -> None:
            self.default_js = [("some-cdn-plugin", "https://cdn.example/plugin.js")]
            self._children: dict[str, object] = {}

    with pytest.raises(AssetError, match="some-cdn-plugin"):
        localize(Element())


def test_both_languages_say_everything() -> None:
    assert CATALOGUES["zh-CN"].keys() == CATALOGUES["en"].keys()
    assert all(CATALOGUES["zh-CN"].values()) and all(CATALOGUES["en"].values())
    assert pick_lang("en-US") == "en" and pick_lang(None) == pick_lang("fr") == "zh-CN"
