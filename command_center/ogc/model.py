"""The OGC API's rules without I/O: collections, conformance classes, query parameters
(bbox, datetime, limit, offset), links, and the WebMercatorQuad tile matrix set.

Standards: OGC API – Features – Part 1: Core (OGC 17-069r4), OGC API – Tiles – Part 1
(OGC 20-057), OGC Two Dimensional Tile Matrix Set (OGC 17-083r4, WebMercatorQuad).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from command_center.errors import InvalidInput, NotFound

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
GEOJSON = "application/geo+json"
JSON = "application/json"
MVT = "application/vnd.mapbox-vector-tile"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"

FEATURES = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf"
TILES = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf"
CONFORMANCE = (
    f"{FEATURES}/core",
    f"{FEATURES}/geojson",
    f"{TILES}/core",
    f"{TILES}/tileset",
    f"{TILES}/tilesets-list",
    f"{TILES}/geodata-tilesets",
    f"{TILES}/mvt",
)

DEFAULT_LIMIT = 100
MAX_LIMIT = 10_000
# Query parameters of items beyond the standard ones: `f` (only json) and `token` (the
# bearer token, for clients that cannot send a header).
ITEMS_PARAMETERS = frozenset({"limit", "offset", "bbox", "datetime", "f", "token"})
OTHER_PARAMETERS = frozenset({"f", "token"})


class CollectionId(StrEnum):
    JURISDICTIONS = "jurisdictions"
    OPEN_CLUES = "open_clues"
    SQUADS = "squads"


@dataclass(frozen=True, slots=True)
class Collection:
    id: CollectionId
    title: str
    description: str
    temporal: bool  # whether `datetime` filters it (by the time the clue was received)


COLLECTIONS: dict[CollectionId, Collection] = {
    CollectionId.JURISDICTIONS: Collection(
        CollectionId.JURISDICTIONS,
        "Jurisdictions 管辖区域",
        "City, districts, streets, communities and grid cells with code, name, level and "
        "parent_code.",
        temporal=False,
    ),
    CollectionId.OPEN_CLUES: Collection(
        CollectionId.OPEN_CLUES,
        "Open clues 在办线索",
        "Clues not closed, cancelled or merged: state, matter, department, squad, deadline "
        "and whether overdue; `datetime` filters by the time they were received. No "
        "personal data.",
        temporal=True,
    ),
    CollectionId.SQUADS: Collection(
        CollectionId.SQUADS,
        "Squads 执法中队",
        "Squads at their base, with department, duty flag, jurisdictions served and the "
        "clues they are working on.",
        temporal=False,
    ),
}


def collection(name: str) -> Collection:
    try:
        return COLLECTIONS[CollectionId(name)]
    except ValueError:
        raise UnknownCollection(f"no collection {name!r}") from None


class UnknownCollection(NotFound):
    """A path that names no collection."""


def check_parameters(given: set[str], allowed: frozenset[str]) -> None:
    """Unknown query parameters are an error (Features Core /req/core/query-param-unknown)."""
    unknown = sorted(given - allowed)
    if unknown:
        raise InvalidInput(f"unknown query parameter: {', '.join(unknown)}")


def check_format(f: str | None) -> None:
    if f not in (None, "json", "geojson", "mvt"):
        raise InvalidInput(f"f must be json, not {f!r} (no other encodings are offered)")


@dataclass(frozen=True, slots=True)
class BBox:
    west: float
    south: float
    east: float
    north: float


def parse_bbox(value: str | None) -> BBox | None:
    """`minLon,minLat,maxLon,maxLat` in CRS84 (six numbers: heights are ignored). A box
    crossing the antimeridian (west > east) is refused: this service covers one city."""
    if value is None:
        return None
    try:
        numbers = [float(part) for part in value.split(",")]
    except ValueError:
        raise InvalidInput("bbox must be four comma-separated numbers") from None
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        raise InvalidInput("bbox must be four comma-separated numbers (or six, with heights)")
    west, south, east, north = numbers
    if not (-180 <= west <= 180 and -180 <= east <= 180 and -90 <= south <= north <= 90):
        raise InvalidInput("bbox must be minLon,minLat,maxLon,maxLat in CRS84")
    if west > east:
        raise InvalidInput("bbox across the antimeridian is not supported")
    return BBox(west, south, east, north)


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime | None
    end: datetime | None


def parse_datetime(value: str | None) -> Interval | None:
    """An RFC 3339 instant, or an interval `start/end` where either end may be `..` or
    empty (open). Times without an offset are refused: they would be ambiguous."""
    if value is None:
        return None
    parts = value.split("/")
    if len(parts) == 1:
        instant = _instant(parts[0])
        return Interval(instant, instant)
    if len(parts) != 2:
        raise InvalidInput("datetime must be an instant or start/end")
    start = None if parts[0] in ("", "..") else _instant(parts[0])
    end = None if parts[1] in ("", "..") else _instant(parts[1])
    if start is None and end is None:
        raise InvalidInput("datetime must bound at least one end of the interval")
    if start and end and end < start:
        raise InvalidInput("datetime interval ends before it starts")
    return Interval(start, end)


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"datetime {text!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        raise InvalidInput(f"datetime {text!r} needs a time zone (Z or +08:00)")
    return moment


def parse_page(limit: str | None, offset: str | None) -> tuple[int, int]:
    """`limit` 1..MAX_LIMIT (default DEFAULT_LIMIT; larger values are cut to MAX_LIMIT, as
    the standard allows), `offset` ≥ 0."""
    try:
        size = DEFAULT_LIMIT if limit is None else int(limit)
        start = 0 if offset is None else int(offset)
    except ValueError:
        raise InvalidInput("limit and offset must be whole numbers") from None
    if size < 1 or start < 0:
        raise InvalidInput("limit must be at least 1 and offset at least 0")
    return min(size, MAX_LIMIT), start


@dataclass(frozen=True, slots=True)
class Feature:
    """A feature as GeoJSON wants it: WGS84 geometry, properties without personal data."""

    id: str
    geometry: dict[str, Any] | None
    properties: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Extent:
    bbox: tuple[float, float, float, float] | None
    first: datetime | None
    last: datetime | None


# --- WebMercatorQuad ----------------------------------------------------------------

WEB_MERCATOR_QUAD = "WebMercatorQuad"
WEB_MERCATOR_QUAD_URI = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
ORIGIN = 20037508.3427892
MAX_ZOOM = 22
TILE_SIZE = 256
# OGC 17-083r4 Annex E.1: scale denominator of zoom 0 with 0.28 mm pixels.
SCALE_0 = 559082264.0287178


def check_tile(z: int, y: int, x: int) -> None:
    if not 0 <= z <= MAX_ZOOM:
        raise InvalidInput(f"tileMatrix must be 0..{MAX_ZOOM}")
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise InvalidInput(f"tileRow and tileCol must be 0..{2**z - 1} at tileMatrix {z}")


def tile_matrix_set() -> dict[str, object]:
    """The WebMercatorQuad definition (OGC 17-083r4 / 2DTMS JSON encoding)."""
    matrices = []
    for z in range(MAX_ZOOM + 1):
        scale = SCALE_0 / 2**z
        matrices.append(
            {
                "id": str(z),
                "scaleDenominator": scale,
                "cellSize": scale * 0.00028,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-ORIGIN, ORIGIN],
                "tileWidth": TILE_SIZE,
                "tileHeight": TILE_SIZE,
                "matrixWidth": 2**z,
                "matrixHeight": 2**z,
            }
        )
    return {
        "id": WEB_MERCATOR_QUAD,
        "title": "Google Maps Compatible for the World",
        "uri": WEB_MERCATOR_QUAD_URI,
        "crs": "http://www.opengis.net/def/crs/EPSG/0/3857",
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "tileMatrices": matrices,
    }
