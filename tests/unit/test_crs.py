"""GCJ-02 conversion and coordinate validation, as a map user would notice them."""

import math

import pytest

from gis.crs import (
    CRS,
    CoordinateError,
    check_lon_lat,
    gcj02_to_wgs84,
    parse_crs,
    to_wgs84,
    wgs84_to_gcj02,
)

METRES_PER_DEGREE_LAT = 111_320.0


def metres_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance; plenty for offsets of a few hundred metres."""
    mean_lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * math.cos(mean_lat) * METRES_PER_DEGREE_LAT
    dy = (a[1] - b[1]) * METRES_PER_DEGREE_LAT
    return math.hypot(dx, dy)


def test_matches_amap_published_conversion_example() -> None:
    # AMap web-service docs, coordinate/convert example: coordsys=gps 116.481499,39.990475
    # -> 116.487585177952,39.991754014757 (AMap's own GCJ-02).
    lon, lat = wgs84_to_gcj02(116.481499, 39.990475)
    assert lon == pytest.approx(116.487585177952, abs=1e-6)
    assert lat == pytest.approx(39.991754014757, abs=1e-6)


@pytest.mark.parametrize(
    ("place", "wgs84"),
    [("Beijing Tiananmen", (116.391275, 39.907320)), ("Lishui", (119.922796, 28.467630))],
)
def test_offset_in_china_is_a_few_hundred_metres(place: str, wgs84: tuple[float, float]) -> None:
    gcj02 = wgs84_to_gcj02(*wgs84)
    assert 100 < metres_between(wgs84, gcj02) < 700, place


def test_paris_is_not_shifted() -> None:
    paris = (2.3522, 48.8566)
    assert wgs84_to_gcj02(*paris) == paris
    assert gcj02_to_wgs84(*paris) == paris
    assert to_wgs84(*paris, CRS.GCJ02) == paris


def test_round_trip_over_china_is_sub_millimetre() -> None:
    worst = 0.0
    for lon in range(74, 136, 3):
        for lat in range(2, 55, 3):
            wgs84 = (lon + 0.123456, lat + 0.654321)
            back = gcj02_to_wgs84(*wgs84_to_gcj02(*wgs84))
            worst = max(worst, abs(back[0] - wgs84[0]), abs(back[1] - wgs84[1]))
    assert worst < 1e-6


def test_to_wgs84_undoes_the_gcj02_shift() -> None:
    wgs84 = (119.922796, 28.467630)
    lon, lat = to_wgs84(*wgs84_to_gcj02(*wgs84), "GCJ02")
    assert lon == pytest.approx(wgs84[0], abs=1e-8)
    assert lat == pytest.approx(wgs84[1], abs=1e-8)


def test_to_wgs84_leaves_wgs84_alone() -> None:
    assert to_wgs84(119.9, 28.4, "WGS84") == (119.9, 28.4)


def test_unknown_crs_names_allowed_values() -> None:
    with pytest.raises(CoordinateError, match=r"'bd09'.*wgs84, gcj02"):
        to_wgs84(119.9, 28.4, "bd09")


def test_parse_crs_is_case_insensitive() -> None:
    assert parse_crs("Gcj02") is CRS.GCJ02


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        (120.0, 95.0, "lat 95.0 is outside -90..90"),
        (181.0, 30.0, "lon 181.0 is outside -180..180"),
        (math.nan, 30.0, "lon is not a finite number"),
        (120.0, math.inf, "lat is not a finite number"),
    ],
)
def test_bad_coordinates_are_refused_naming_the_problem(
    lon: float, lat: float, message: str
) -> None:
    with pytest.raises(CoordinateError) as caught:
        check_lon_lat(lon, lat)
    assert str(caught.value) == message
    with pytest.raises(CoordinateError, match=message):
        to_wgs84(lon, lat, CRS.WGS84)


def test_range_edges_are_accepted() -> None:
    check_lon_lat(-180.0, -90.0)
    check_lon_lat(180.0, 90.0)
