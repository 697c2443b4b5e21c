"""Parse jurisdiction boundary files (GeoJSON FeatureCollections) into value objects.

Pure: no I/O beyond json parsing. Every refusal is a BoundaryError whose message
names the feature (by code when known, else by its 0-based index in ``features``)
and the problem. Output geometries are WGS84 MultiPolygons.
"""

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.errors import GEOSException
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gis.crs import CRS, CoordinateError, check_lon_lat, gcj02_to_wgs84, parse_crs

LEVELS: tuple[str, ...] = ("city", "district", "street", "community", "grid")
LEVEL_RANK: dict[str, int] = {level: rank for rank, level in enumerate(LEVELS)}
"""Rank of each level; a larger rank is a smaller area (city 0 … grid 4)."""

DEFAULT_MAX_VERTICES = 1_000_000

_POLYGONAL_TYPES = ("Polygon", "MultiPolygon")

Ring = list[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class BoundaryFeature:
    """One jurisdiction area from a boundary file, geometry in WGS84."""

    code: str
    name: str
    level: str
    parent_code: str | None
    geometry: MultiPolygon
    repaired: bool


class BoundaryError(ValueError):
    """A boundary file that cannot be imported; ``feature_code`` is None when unknown."""

    def __init__(self, message: str, *, feature_code: str | None = None) -> None:
        super().__init__(message)
        self.feature_code = feature_code


class _FeatureRef:
    """How messages name a feature: by code once it is known, else by index."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.code: str | None = None

    def error(self, problem: str) -> BoundaryError:
        label = f"feature {self.code!r}" if self.code is not None else f"feature #{self.index}"
        return BoundaryError(f"{label}: {problem}", feature_code=self.code)


def parse_feature_collection(
    data: bytes | str | Mapping[str, Any],
    crs: CRS | str = CRS.WGS84,
    *,
    max_vertices: int = DEFAULT_MAX_VERTICES,
) -> list[BoundaryFeature]:
    """Validate a boundary FeatureCollection and return its features, parents first.

    ``crs`` names the coordinates of the file; GCJ-02 vertices are converted to
    WGS84. Invalid polygons are repaired with shapely.make_valid (``repaired`` is
    then True). The order puts every parent before its children among the codes in
    the file, otherwise keeping file order; a parent_code absent from the file is
    allowed and left for the caller to check.

    Raises BoundaryError for anything it cannot import, including an unknown crs
    and more than ``max_vertices`` vertices in the whole file. Nothing is returned
    partially: one bad feature refuses the file. GCJ-02 conversion is pure Python,
    roughly 1 second per 100,000 vertices.
    """
    try:
        source_crs = parse_crs(crs)
    except CoordinateError as exc:
        raise BoundaryError(str(exc)) from None
    features = _feature_list(_load_json(data))
    budget = _VertexBudget(max_vertices)
    parsed: dict[str, BoundaryFeature] = {}
    index_of: dict[str, int] = {}
    for index, raw_feature in enumerate(features):
        feature = _parse_feature(raw_feature, _FeatureRef(index), source_crs, budget)
        if feature.code in parsed:
            raise BoundaryError(
                f"feature {feature.code!r}: duplicate code, features #{index_of[feature.code]}"
                f" and #{index}",
                feature_code=feature.code,
            )
        parsed[feature.code] = feature
        index_of[feature.code] = index
    return [parsed[code] for code in _parents_first(parsed)]


def _load_json(data: bytes | str | Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(data, Mapping):
        return data
    try:
        loaded = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BoundaryError(f"boundary file is not valid JSON: {exc}") from None
    except RecursionError:
        raise BoundaryError("boundary file is nested too deeply to be GeoJSON") from None
    if not isinstance(loaded, Mapping):
        raise BoundaryError("boundary file is not a GeoJSON object")
    return loaded


def _feature_list(collection: Mapping[str, Any]) -> Sequence[Any]:
    if collection.get("type") != "FeatureCollection":
        raise BoundaryError(
            f"boundary file must be a FeatureCollection, got type {collection.get('type')!r}"
        )
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise BoundaryError("boundary file has no features")
    return features


class _VertexBudget:
    """Counts vertices across the file and refuses past the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def spend(self, count: int, ref: _FeatureRef) -> None:
        self.used += count
        if self.used > self.limit:
            raise ref.error(f"the file has more than {self.limit} vertices; refusing it")


def _parse_feature(raw: Any, ref: _FeatureRef, crs: CRS, budget: _VertexBudget) -> BoundaryFeature:
    if not isinstance(raw, Mapping) or raw.get("type") != "Feature":
        raise ref.error("is not a GeoJSON Feature")
    properties = raw.get("properties")
    if not isinstance(properties, Mapping):
        raise ref.error("has no properties (code, name, level are required)")
    ref.code = _code(properties.get("code"), "code", ref)
    if ref.code is None:
        raise ref.error("code is missing")
    name = properties.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ref.error("name is missing or not a non-empty string")
    level = properties.get("level")
    if not isinstance(level, str) or level not in LEVEL_RANK:
        raise ref.error(f"level {level!r} is not one of: {', '.join(LEVELS)}")
    parent_code = _code(properties.get("parent_code"), "parent_code", ref)
    if parent_code == ref.code:
        raise ref.error("is its own parent")
    geometry, repaired = _parse_geometry(raw.get("geometry"), ref, crs, budget)
    return BoundaryFeature(ref.code, name.strip(), level, parent_code, geometry, repaired)


def _code(value: Any, field: str, ref: _FeatureRef) -> str | None:
    """Read a code given as a string or a JSON integer; None when null or absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ref.error(f"{field} must be a string or an integer, got {value!r}")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if not isinstance(value, str):
        raise ref.error(f"{field} must be a string or an integer, got {value!r}")
    if not value.strip():
        raise ref.error(f"{field} is empty" + ("; use null for none" if field != "code" else ""))
    return value.strip()


def _parse_geometry(
    raw: Any, ref: _FeatureRef, crs: CRS, budget: _VertexBudget
) -> tuple[MultiPolygon, bool]:
    geometry_type = raw.get("type") if isinstance(raw, Mapping) else None
    if geometry_type not in _POLYGONAL_TYPES:
        raise ref.error(f"geometry type {geometry_type!r} is not Polygon or MultiPolygon")
    coordinates = raw.get("coordinates")
    polygon_list = [coordinates] if geometry_type == "Polygon" else coordinates
    if not isinstance(polygon_list, list) or not polygon_list:
        raise ref.error("geometry has no polygons")
    polygons = [
        _polygon(rings, f"polygon {number}", ref, crs, budget)
        for number, rings in enumerate(polygon_list)
    ]
    multipolygon = MultiPolygon(polygons)
    if multipolygon.is_valid:
        return multipolygon, False
    return _repair(multipolygon, ref), True


def _polygon(rings: Any, where: str, ref: _FeatureRef, crs: CRS, budget: _VertexBudget) -> Polygon:
    if not isinstance(rings, list) or not rings:
        raise ref.error(f"{where} has no rings")
    parsed = [
        _ring(ring, f"{where} ring {number}", ref, crs, budget) for number, ring in enumerate(rings)
    ]
    try:
        return Polygon(parsed[0], parsed[1:])
    except (ValueError, GEOSException) as exc:
        raise ref.error(f"{where} cannot be built: {exc}") from None


def _ring(raw: Any, where: str, ref: _FeatureRef, crs: CRS, budget: _VertexBudget) -> Ring:
    if not isinstance(raw, list) or len(raw) < 4:
        raise ref.error(f"{where} is not a list of at least 4 positions")
    budget.spend(len(raw), ref)
    return [
        _position(position, f"{where} position {number}", ref, crs)
        for number, position in enumerate(raw)
    ]


def _position(raw: Any, where: str, ref: _FeatureRef, crs: CRS) -> tuple[float, float]:
    if not isinstance(raw, list) or len(raw) < 2 or not all(map(_is_number, raw[:2])):
        raise ref.error(f"{where} is not a [lon, lat] pair of numbers")
    try:
        lon, lat = float(raw[0]), float(raw[1])
        check_lon_lat(lon, lat)
    except OverflowError:
        raise ref.error(f"{where}: coordinate is not a finite number") from None
    except CoordinateError as exc:
        raise ref.error(f"{where}: {exc}") from None
    if crs is CRS.GCJ02:
        return gcj02_to_wgs84(lon, lat)
    return lon, lat


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _repair(geometry: MultiPolygon, ref: _FeatureRef) -> MultiPolygon:
    """Make the geometry valid, keeping only polygonal parts with area."""
    parts = [part for part in _polygonal_parts(shapely.make_valid(geometry)) if part.area > 0]
    if not parts:
        raise ref.error("geometry is invalid and has no area left after repair")
    merged = shapely.unary_union(parts)
    repaired = MultiPolygon(list(_polygonal_parts(merged)))
    if not repaired.is_valid or repaired.is_empty or not math.isfinite(repaired.area):
        raise ref.error("geometry is invalid and could not be repaired")
    return repaired


def _polygonal_parts(geometry: BaseGeometry) -> list[Polygon]:
    if isinstance(geometry, Polygon):
        return [geometry] if not geometry.is_empty else []
    if isinstance(geometry, MultiPolygon | shapely.GeometryCollection):
        return [polygon for part in geometry.geoms for polygon in _polygonal_parts(part)]
    return []


def _parents_first(features: Mapping[str, BoundaryFeature]) -> list[str]:
    """Order codes so that each parent in the file precedes its children.

    Raises BoundaryError naming the codes of a parent cycle.
    """
    ordered: list[str] = []
    placed: set[str] = set()
    for start in features:
        chain: list[str] = []
        in_chain: set[str] = set()
        code: str | None = start
        while code is not None and code in features and code not in placed:
            if code in in_chain:
                cycle = [*chain[chain.index(code) :], code]
                raise BoundaryError(
                    f"feature {code!r}: parent cycle {' -> '.join(cycle)}", feature_code=code
                )
            chain.append(code)
            in_chain.add(code)
            code = features[code].parent_code
        for ancestor_first in reversed(chain):
            ordered.append(ancestor_first)
            placed.add(ancestor_first)
    return ordered
