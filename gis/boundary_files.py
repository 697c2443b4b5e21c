"""Read an uploaded boundary file — GeoJSON, zipped Shapefile or GeoPackage — with pyogrio.

The format is found from the file's content (GDAL's drivers), so a wrong or
missing extension does not matter; the file name only appears in messages.
Fields are renamed through ``mapping`` (our name → the file's, e.g.
``{"parent_code": "PARENT_COD"}``: Shapefile field names have at most 10
characters) and the result goes through the same checks as the command-line
import (gis.boundaries.parse_feature_collection). Every refusal is a
BoundaryError naming the problem.
"""

import json
import warnings
from collections.abc import Mapping
from typing import Any

import pyogrio
import shapely
from pyogrio.errors import DataLayerError, DataSourceError

from gis.boundaries import BoundaryError, BoundaryFeature, parse_feature_collection
from gis.crs import CRS

OUR_FIELDS: tuple[str, ...] = ("code", "name", "level", "parent_code")

# CGCS2000 (EPSG:4490) differs from WGS84 by centimetres: read as WGS84, as the
# command-line import does for reference data.
_WGS84_LIKE = {"EPSG:4326", "EPSG:4490", "OGC:CRS84"}


def read_boundary_file(
    data: bytes,
    filename: str,
    *,
    mapping: Mapping[str, str] | None = None,
    crs: CRS | str | None = None,
) -> list[BoundaryFeature]:
    """Parse ``data`` into boundary features, parents first, geometry in WGS84.

    ``crs`` overrides the file's own coordinate system; GCJ-02 must be named this
    way since no .prj or GeoPackage can say it. A file in any other projected or
    geographic system than WGS84/CGCS2000 is refused rather than guessed.
    """
    field_of = _field_names(mapping or {})
    try:
        with warnings.catch_warnings():
            # GDAL warns that an uploaded GeoPackage lacks its .gpkg name: bytes have none
            warnings.simplefilter("ignore", RuntimeWarning)
            meta, _fids, geometries, values = pyogrio.raw.read(data)
    except (DataSourceError, DataLayerError):
        raise BoundaryError(
            f"{filename}: not a readable GeoJSON, zipped Shapefile or GeoPackage"
        ) from None
    source_crs = crs if crs is not None else _file_crs(meta.get("crs"), filename)
    columns = {
        str(name): list(column.tolist())
        for name, column in zip(meta["fields"], values, strict=True)
    }
    for ours, theirs in field_of.items():
        if theirs not in columns and ours in (mapping or {}):
            raise BoundaryError(f"{filename}: mapping names field {theirs!r}, which the file lacks")
    features = [
        {
            "type": "Feature",
            "properties": {
                ours: _plain(columns[theirs][index]) if theirs in columns else None
                for ours, theirs in field_of.items()
            },
            "geometry": None
            if wkb is None
            else json.loads(shapely.to_geojson(shapely.from_wkb(wkb))),
        }
        for index, wkb in enumerate(geometries)
    ]
    collection = {"type": "FeatureCollection", "features": features}
    return parse_feature_collection(collection, source_crs)


def _field_names(mapping: Mapping[str, str]) -> dict[str, str]:
    unknown = sorted(set(mapping) - set(OUR_FIELDS))
    if unknown:
        raise BoundaryError(
            f"mapping has unknown names {unknown}; it maps {list(OUR_FIELDS)} to the file's fields"
        )
    for ours, theirs in mapping.items():
        if not isinstance(theirs, str) or not theirs:
            raise BoundaryError(f"mapping for {ours!r} must be a field name")
    return {ours: mapping.get(ours, ours) for ours in OUR_FIELDS}


def _file_crs(crs: str | None, filename: str) -> CRS:
    if crs is None or crs.upper() in _WGS84_LIKE:
        return CRS.WGS84
    raise BoundaryError(
        f"{filename}: coordinates in {crs}; give WGS84 (EPSG:4326), CGCS2000 or GCJ-02"
    )


def _plain(value: Any) -> Any:
    """A field value as the JSON import would see it: strings and numbers, None for empty."""
    if isinstance(value, float) and value != value:
        return None
    return value
