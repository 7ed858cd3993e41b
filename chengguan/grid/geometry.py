"""Geometry helpers shared by the grid's plain modules: storage, areas, local metric frames.

Cells are kept in WGS-84 longitude/latitude. Anything measured in metres happens in a
Lambert azimuthal equal-area projection centred on the data: areas are exact there
whatever the distance from the centre, and over a district lengths are off by well under
a percent, which is all the sliver widths and tolerances need.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Geod, Transformer
from shapely.geometry.base import BaseGeometry

FloatArray = npt.NDArray[np.float64]
GeomArray = npt.NDArray[np.object_]

_GEOD = Geod(ellps="WGS84")
SEGMENT_DEG = 0.0002  # about 20 m


def to_wkb(geom: BaseGeometry) -> bytes:
    return bytes(shapely.to_wkb(geom))


def from_wkb(data: bytes | memoryview) -> BaseGeometry:
    # PostgreSQL hands bytea back as memoryview; shapely wants bytes.
    return shapely.from_wkb(bytes(data))


def from_wkb_many(items: Iterable[bytes | memoryview]) -> GeomArray:
    return shapely.from_wkb(np.array([bytes(item) for item in items], dtype=object))


def polygonal(geom: BaseGeometry | None) -> BaseGeometry | None:
    """The polygonal part of a geometry (a GeometryCollection from make_valid may hold lines)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    if geom.geom_type == "GeometryCollection":
        parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
        if not parts:
            return None
        return shapely.union_all(parts)
    return None


def repaired(geom: BaseGeometry) -> BaseGeometry:
    """A valid polygonal version of ``geom`` (empty polygon when nothing areal is left)."""
    if geom.is_valid:
        return geom
    fixed = polygonal(shapely.make_valid(geom))
    return fixed if fixed is not None else shapely.Polygon()


def geojson_geometry(geom: BaseGeometry, precision: int = 7) -> dict[str, Any]:
    # Seven decimals of a degree are about a centimetre: exact enough for any map.
    return json.loads(shapely.to_geojson(shapely.set_precision(geom, 10**-precision, mode="pointwise")))


@dataclass(frozen=True)
class MetricFrame:
    """An equal-area projection centred on a place, to measure in metres and square metres."""

    lon0: float
    lat0: float

    @classmethod
    def around(cls, geoms: Sequence[BaseGeometry] | GeomArray) -> MetricFrame:
        arr = np.asarray(geoms, dtype=object)
        bounds = shapely.total_bounds(arr)
        if not np.all(np.isfinite(bounds)):
            return cls(0.0, 0.0)
        return cls(round((bounds[0] + bounds[2]) / 2, 6), round((bounds[1] + bounds[3]) / 2, 6))

    @cached_property
    def _forward(self) -> Transformer:
        crs = f"+proj=laea +lat_0={self.lat0} +lon_0={self.lon0} +datum=WGS84 +units=m +no_defs"
        return Transformer.from_crs("EPSG:4326", crs, always_xy=True)

    @cached_property
    def _backward(self) -> Transformer:
        crs = f"+proj=laea +lat_0={self.lat0} +lon_0={self.lon0} +datum=WGS84 +units=m +no_defs"
        return Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def project(self, geoms: Any) -> Any:
        """WGS-84 geometries (one or an array) → the same in metres."""
        forward = self._forward
        return shapely.transform(geoms, lambda xy: np.column_stack(forward.transform(xy[:, 0], xy[:, 1])))

    def unproject(self, geoms: Any) -> Any:
        backward = self._backward
        return shapely.transform(geoms, lambda xy: np.column_stack(backward.transform(xy[:, 0], xy[:, 1])))

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        lon, lat = self._backward.transform(x, y)
        return float(lon), float(lat)


@dataclass(frozen=True)
class PlanarFrame:
    """Longitude/latitude scaled to metres at one latitude (an affine map, no curvature).

    Grid topology — which cell a point is in, where cells overlap or leave gaps — is
    planar in longitude/latitude: cells are stored and located with straight edges in
    degrees. An affine scaling keeps every straight edge straight, so overlays here agree
    exactly with the locator, while a curved projection would bend long boundary edges
    and invent gaps and overlaps of tens of m². Areas are within half a percent over a
    district (the east-west scale changes with latitude); exact areas come from
    :func:`areas_m2`.
    """

    lon0: float
    lat0: float
    mlon: float
    mlat: float

    @classmethod
    def around(cls, geoms: Sequence[BaseGeometry] | GeomArray) -> PlanarFrame:
        arr = np.asarray(geoms, dtype=object)
        bounds = shapely.total_bounds(arr)
        if not np.all(np.isfinite(bounds)):
            bounds = np.zeros(4)
        lon0, lat0 = (bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2
        mlon, mlat = metres_per_degree(lat0)
        return cls(float(lon0), float(lat0), mlon, mlat)

    def project(self, geoms: Any) -> Any:
        return shapely.transform(geoms, lambda xy: (xy - (self.lon0, self.lat0)) * (self.mlon, self.mlat))

    def unproject(self, geoms: Any) -> Any:
        return shapely.transform(geoms, lambda xy: xy / (self.mlon, self.mlat) + (self.lon0, self.lat0))

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return self.lon0 + x / self.mlon, self.lat0 + y / self.mlat


def areas_m2(geoms: Sequence[BaseGeometry] | GeomArray, frame: MetricFrame | None = None) -> FloatArray:
    """Areas in m² on an equal-area projection (exact to the projection's ellipsoid)."""
    arr = np.asarray(geoms, dtype=object)
    if arr.size == 0:
        return np.zeros(0)
    frame = frame or MetricFrame.around(arr)
    # Edges are straight in longitude/latitude (that is how cells are stored and located);
    # a projection bends them, so long edges are split first or a 2 km boundary edge would
    # be off by millimetres along its length — tens of m² over a district.
    dense = shapely.segmentize(arr, max_segment_length=SEGMENT_DEG)
    return np.asarray(shapely.area(frame.project(dense)), dtype=float)


def metres_per_degree(lat: float) -> tuple[float, float]:
    """Ground length of one degree of longitude and of latitude at a latitude (WGS-84)."""
    _, _, along_parallel = _GEOD.inv(0.0, lat, 0.01, lat)
    _, _, along_meridian = _GEOD.inv(0.0, lat - 0.005, 0.0, lat + 0.005)
    return along_parallel * 100.0, along_meridian * 100.0


def lattice_edges(origin: float, step: float, count: int) -> FloatArray:
    """The ``count + 1`` edge coordinates of a regular lattice.

    The generator, the validator and the locator all take lattice lines from this one
    function so that the very same floating-point numbers bound neighbouring cells.
    """
    return origin + np.arange(count + 1, dtype=float) * step


def describe_place(lon: float, lat: float) -> str:
    return f"东经 {lon:.6f}°，北纬 {lat:.6f}°"


def is_lonlat_bounds(bounds: Sequence[float]) -> bool:
    minx, miny, maxx, maxy = bounds
    return all(math.isfinite(v) for v in bounds) and -180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90
