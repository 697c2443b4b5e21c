"""Boundary file import: what an administrator uploading GeoJSON would notice."""

import json
from typing import Any

import pytest
from shapely.geometry import MultiPolygon

from gis.boundaries import (
    LEVEL_RANK,
    LEVELS,
    BoundaryError,
    parse_feature_collection,
)
from gis.crs import wgs84_to_gcj02

Ring = list[list[float]]


def square(lon: float, lat: float, size: float = 0.01) -> Ring:
    return [
        [lon, lat],
        [lon + size, lat],
        [lon + size, lat + size],
        [lon, lat + size],
        [lon, lat],
    ]


def feature(
    code: Any,
    *,
    level: Any = "street",
    parent_code: Any = None,
    name: Any = "莲都区",
    geometry: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent_code},
        "geometry": geometry or {"type": "Polygon", "coordinates": [square(119.9, 28.4)]},
    }


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def test_levels_rank_from_city_to_grid() -> None:
    assert LEVELS == ("city", "district", "street", "community", "grid")
    assert LEVEL_RANK["city"] == 0
    assert LEVEL_RANK["grid"] == 4


def test_valid_collection_from_json_text_parses() -> None:
    text = json.dumps(collection(feature("331102", level="district", parent_code="331100")))
    [parsed] = parse_feature_collection(text)
    assert parsed.code == "331102"
    assert parsed.name == "莲都区"
    assert parsed.level == "district"
    assert parsed.parent_code == "331100"
    assert parsed.repaired is False
    assert parsed.geometry.area == pytest.approx(0.0001)


def test_bytes_input_is_accepted() -> None:
    [parsed] = parse_feature_collection(json.dumps(collection(feature("a"))).encode())
    assert parsed.code == "a"


def test_polygon_becomes_multipolygon() -> None:
    [parsed] = parse_feature_collection(collection(feature("a")))
    assert isinstance(parsed.geometry, MultiPolygon)
    assert len(parsed.geometry.geoms) == 1


def test_multipolygon_keeps_all_parts() -> None:
    geometry = {
        "type": "MultiPolygon",
        "coordinates": [[square(119.9, 28.4)], [square(120.0, 28.4)]],
    }
    [parsed] = parse_feature_collection(collection(feature("a", geometry=geometry)))
    assert len(parsed.geometry.geoms) == 2


def test_bow_tie_is_repaired_and_flagged() -> None:
    bow_tie = [[119.9, 28.4], [119.91, 28.41], [119.91, 28.4], [119.9, 28.41], [119.9, 28.4]]
    geometry = {"type": "Polygon", "coordinates": [bow_tie]}
    [parsed] = parse_feature_collection(collection(feature("a", geometry=geometry)))
    assert parsed.repaired is True
    assert parsed.geometry.is_valid
    assert isinstance(parsed.geometry, MultiPolygon)
    assert parsed.geometry.area == pytest.approx(0.00005)


def test_flat_polygon_with_no_area_is_refused() -> None:
    line_like = [[119.9, 28.4], [119.91, 28.4], [119.92, 28.4], [119.9, 28.4]]
    geometry = {"type": "Polygon", "coordinates": [line_like]}
    with pytest.raises(BoundaryError, match=r"feature 'flat': .*no area") as caught:
        parse_feature_collection(collection(feature("flat", geometry=geometry)))
    assert caught.value.feature_code == "flat"


def test_line_string_is_refused_naming_its_code() -> None:
    geometry = {"type": "LineString", "coordinates": [[119.9, 28.4], [119.91, 28.41]]}
    with pytest.raises(BoundaryError, match=r"feature '331102'.*'LineString'") as caught:
        parse_feature_collection(collection(feature("ok"), feature("331102", geometry=geometry)))
    assert caught.value.feature_code == "331102"


def test_unknown_level_is_refused_listing_allowed_levels() -> None:
    with pytest.raises(BoundaryError) as caught:
        parse_feature_collection(collection(feature("a", level="province")))
    message = str(caught.value)
    assert "'province'" in message
    assert "city, district, street, community, grid" in message


def test_duplicate_code_is_refused() -> None:
    with pytest.raises(BoundaryError, match=r"'a': duplicate code, features #0 and #2"):
        parse_feature_collection(collection(feature("a"), feature("b"), feature("a")))


def test_parent_cycle_is_refused() -> None:
    data = collection(
        feature("a", parent_code="c"), feature("b", parent_code="a"), feature("c", parent_code="b")
    )
    with pytest.raises(BoundaryError, match=r"parent cycle a -> c -> b -> a"):
        parse_feature_collection(data)


def test_own_parent_is_refused() -> None:
    with pytest.raises(BoundaryError, match=r"feature 'a': is its own parent"):
        parse_feature_collection(collection(feature("a", parent_code="a")))


def test_children_come_after_parents() -> None:
    data = collection(
        feature("grid-1", level="grid", parent_code="community-1"),
        feature("community-1", level="community", parent_code="street-1"),
        feature("street-2", level="street", parent_code="district-outside-file"),
        feature("street-1", level="street", parent_code="district-outside-file"),
    )
    codes = [parsed.code for parsed in parse_feature_collection(data)]
    assert codes == ["street-1", "community-1", "grid-1", "street-2"]


def test_numeric_codes_become_strings() -> None:
    [parsed] = parse_feature_collection(
        json.loads(
            '{"type": "FeatureCollection", "features": [{"type": "Feature",'
            ' "properties": {"code": 331102, "name": "莲都区", "level": "district",'
            ' "parent_code": 331100}, "geometry": {"type": "Polygon", "coordinates":'
            " [[[119.9, 28.4], [119.91, 28.4], [119.91, 28.41], [119.9, 28.4]]]}}]}"
        )
    )
    assert parsed.code == "331102"
    assert parsed.parent_code == "331100"


def test_gcj02_input_is_shifted_back_to_wgs84() -> None:
    wgs84_ring = square(119.9, 28.4)
    gcj02_ring = [list(wgs84_to_gcj02(lon, lat)) for lon, lat in wgs84_ring]
    geometry = {"type": "Polygon", "coordinates": [gcj02_ring]}
    [parsed] = parse_feature_collection(collection(feature("a", geometry=geometry)), "GCJ02")
    exterior = list(parsed.geometry.geoms[0].exterior.coords)
    for (lon, lat), (expected_lon, expected_lat) in zip(exterior, wgs84_ring, strict=True):
        assert lon == pytest.approx(expected_lon, abs=1e-8)
        assert lat == pytest.approx(expected_lat, abs=1e-8)
    moved_deg = abs(gcj02_ring[0][0] - exterior[0][0]) + abs(gcj02_ring[0][1] - exterior[0][1])
    assert 0.001 < moved_deg < 0.01  # a few hundred metres


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a GeoJSON object"),
        ('{"type": "Feature"}', "must be a FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "has no features"),
    ],
)
def test_file_level_problems_are_refused(data: str, message: str) -> None:
    with pytest.raises(BoundaryError, match=message) as caught:
        parse_feature_collection(data)
    assert caught.value.feature_code is None


@pytest.mark.parametrize(
    ("bad_feature", "message"),
    [
        (feature(None), r"feature #0: code is missing"),
        (feature(""), r"feature #0: code is empty"),
        (feature(True), r"feature #0: code must be a string or an integer"),
        (feature("a", name=""), r"feature 'a': name is missing"),
        (feature("a", name=7), r"feature 'a': name is missing"),
        (feature("a", parent_code=["x"]), r"feature 'a': parent_code must be"),
        (feature("a", level=["city"]), r"feature 'a': level \['city'\] is not one of"),
    ],
)
def test_bad_properties_are_refused(bad_feature: dict[str, Any], message: str) -> None:
    with pytest.raises(BoundaryError, match=message):
        parse_feature_collection(collection(bad_feature))


@pytest.mark.parametrize(
    ("position", "message"),
    [
        ([119.9, 95.0], r"position 1: lat 95.0 is outside -90..90"),
        ([float("nan"), 28.4], r"position 1: lon is not a finite number"),
        (["119.9", 28.4], r"position 1 is not a \[lon, lat\] pair of numbers"),
        ([1e400, 28.4], r"position 1: lon is not a finite number"),
    ],
)
def test_bad_coordinates_are_refused(position: list[Any], message: str) -> None:
    ring: list[Any] = square(119.9, 28.4)
    ring[1] = position
    geometry = {"type": "Polygon", "coordinates": [ring]}
    with pytest.raises(BoundaryError, match=r"feature 'a': polygon 0 ring 0 " + message):
        parse_feature_collection(collection(feature("a", geometry=geometry)))


def test_too_many_vertices_are_refused() -> None:
    data = collection(feature("a"), feature("b"))
    with pytest.raises(BoundaryError, match=r"feature 'b': .*more than 8 vertices"):
        parse_feature_collection(data, max_vertices=8)
    assert len(parse_feature_collection(data, max_vertices=10)) == 2


def test_unknown_crs_is_refused() -> None:
    with pytest.raises(BoundaryError, match="unknown crs 'bd09'"):
        parse_feature_collection(collection(feature("a")), "bd09")
