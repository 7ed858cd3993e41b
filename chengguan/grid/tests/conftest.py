"""Fixtures and small builders for the grid tests: files written with the same GDAL the
importer reads them with, and small districts so generated grids stay fast."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio.raw
import pytest
import shapely
from shapely.geometry.base import BaseGeometry

from chengguan.grid.geometry import metres_per_degree

# The reference data lives beside the repository (…/shared/data), never inside it.
SHARED_DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"

# A spot inside 红山区, so small test districts sit where the demo does.
LON0, LAT0 = 118.96, 42.27


def shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"reference data {path} is absent (expected beside the repository in shared/data)")
    return path


def metres_box(x0: float, y0: float, x1: float, y1: float) -> BaseGeometry:
    """A rectangle given in metres east/north of (LON0, LAT0)."""
    mlon, mlat = metres_per_degree(LAT0)
    return shapely.box(LON0 + x0 / mlon, LAT0 + y0 / mlat, LON0 + x1 / mlon, LAT0 + y1 / mlat)


def metres_polygon(points: list[tuple[float, float]]) -> BaseGeometry:
    mlon, mlat = metres_per_degree(LAT0)
    return shapely.Polygon([(LON0 + x / mlon, LAT0 + y / mlat) for x, y in points])


def write_geojson(path: Path, features: list[tuple[BaseGeometry, dict[str, Any]]]) -> Path:
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))}
                    for geom, props in features
                ],
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return path


def write_with_gdal(
    path: Path,
    features: list[tuple[BaseGeometry, dict[str, Any]]],
    *,
    driver: str,
    crs: str | None = "EPSG:4326",
    layer: str | None = None,
    encoding: str | None = None,
) -> Path:
    names = list(features[0][1])
    field_data = [np.array([props[n] for _, props in features], dtype=object) for n in names]
    geometry = np.array([shapely.to_wkb(geom) for geom, _ in features], dtype=object)
    pyogrio.raw.write(
        str(path),
        geometry,
        field_data,
        names,
        driver=driver,
        crs=crs,
        layer=layer,
        geometry_type="MultiPolygon" if driver == "ESRI Shapefile" else "Unknown",
        encoding=encoding,
    )
    return path


def two_by_two(size_m: float = 200.0) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """Four square communities (2 × 2) under two subdistricts: a clean little grid."""
    out = []
    for i in range(2):
        for j in range(2):
            out.append(
                (
                    metres_box(i * size_m, j * size_m, (i + 1) * size_m, (j + 1) * size_m),
                    {"code": f"15040200{i}{j + 1:03d}", "name": f"社区{i}{j}", "street": f"街道{i}"},
                )
            )
    return out


def streets(size_m: float = 200.0) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    return [
        (
            metres_box(i * size_m, 0, (i + 1) * size_m, 2 * size_m),
            {"code": f"15040200{i}", "name": f"街道{i}"},
        )
        for i in range(2)
    ]
