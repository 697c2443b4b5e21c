"""Uploaded boundary files in each format an administrator may have, made here with pyogrio."""

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import shapely
from pyogrio.raw import write
from shapely.geometry import box

from gis.boundaries import BoundaryError
from gis.boundary_files import read_boundary_file
from gis.crs import wgs84_to_gcj02

STREET = box(119.90, 28.45, 119.92, 28.46)
GRID = box(119.90, 28.45, 119.91, 28.46)


def write_layer(path: Path, driver: str, parent_field: str = "parent_code") -> None:
    geometries = np.array([shapely.to_wkb(STREET), shapely.to_wkb(GRID)], dtype=object)
    values = [
        np.array(["S1", "G1"], dtype=object),
        np.array(["白云街道", "一号网格"], dtype=object),
        np.array(["street", "grid"], dtype=object),
        np.array([None, "S1"], dtype=object),
    ]
    fields = ["code", "name", "level", parent_field]
    write(
        str(path),
        geometries,
        values,
        fields=fields,
        geometry_type="Polygon",
        crs="EPSG:4326",
        driver=driver,
    )


def zipped_shapefile(tmp_path: Path) -> bytes:
    write_layer(tmp_path / "grid.shp", "ESRI Shapefile", parent_field="PARENT_COD")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for part in tmp_path.glob("grid.*"):
            archive.write(part, part.name)
    return buffer.getvalue()


def test_a_zipped_shapefile_with_a_field_mapping_is_read(tmp_path: Path) -> None:
    features = read_boundary_file(
        zipped_shapefile(tmp_path), "grid.zip", mapping={"parent_code": "PARENT_COD"}
    )

    assert [(f.code, f.name, f.parent_code) for f in features] == [
        ("S1", "白云街道", None),
        ("G1", "一号网格", "S1"),
    ]
    assert features[1].geometry.equals(shapely.MultiPolygon([GRID]))


@pytest.mark.parametrize(("driver", "name"), [("GPKG", "grid.gpkg"), ("GeoJSON", "grid.geojson")])
def test_geopackage_and_geojson_are_read_whatever_the_name(
    tmp_path: Path, driver: str, name: str
) -> None:
    write_layer(tmp_path / name, driver)

    features = read_boundary_file((tmp_path / name).read_bytes(), "upload.bin")

    assert [f.code for f in features] == ["S1", "G1"]


def test_gcj02_coordinates_are_converted_when_named(tmp_path: Path) -> None:
    write_layer(tmp_path / "grid.geojson", "GeoJSON")
    features = read_boundary_file(
        (tmp_path / "grid.geojson").read_bytes(), "grid.geojson", crs="gcj02"
    )

    lon, _ = wgs84_to_gcj02(119.90, 28.45)
    assert features[0].geometry.bounds[0] == pytest.approx(119.90 - (lon - 119.90), abs=1e-5)


def test_a_mapping_to_a_missing_field_is_refused_by_name(tmp_path: Path) -> None:
    with pytest.raises(BoundaryError, match="PARENT_CD"):
        read_boundary_file(
            zipped_shapefile(tmp_path), "grid.zip", mapping={"parent_code": "PARENT_CD"}
        )


def test_an_unreadable_file_is_refused_with_its_name() -> None:
    with pytest.raises(BoundaryError, match=r"notes\.txt: not a readable"):
        read_boundary_file(b"hello", "notes.txt")
