"""Reading grid polygons from GeoJSON, Shapefile (also zipped) and GeoPackage files.

GDAL (through pyogrio) does the reading; this module turns what it returns into plain
features in WGS-84 and turns every way a file can be wrong into one message a clerk
understands. Invalid polygons are *not* a reading error: they are read as they are and the
validation report names them, so the clerk sees all problems of the file at once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import pyogrio.errors
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry.base import BaseGeometry

from chengguan.grid.gcj02 import gcj02_coords_to_wgs84
from chengguan.grid.geometry import is_lonlat_bounds

SUPPORTED_SUFFIXES = (".geojson", ".json", ".shp", ".zip", ".gpkg")
# Geographic CRSs whose coordinates are WGS-84 for the purpose of a city grid: CGCS2000 and
# WGS-84 differ by centimetres.
_LONLAT_CRS = {"EPSG:4326", "OGC:CRS84", "EPSG:4490", "EPSG:4479", "EPSG:4480"}
_MAX_LISTED = 20


class GridFileError(ValueError):
    """The file cannot be used as it is; the message says why in words a clerk understands."""


@dataclass
class Feature:
    number: int  # 1-based position in the file, as GIS software shows it
    geometry: BaseGeometry
    properties: dict[str, Any]


@dataclass
class FeatureSet:
    path: str
    features: list[Feature]
    fields: list[str]
    crs: str
    notes: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    """JSON-storable attribute values (numpy scalars, NaN and dates come out of GDAL)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _to_wgs84(crs_text: str | None) -> tuple[Transformer | None, str]:
    if not crs_text:
        # GeoJSON is WGS-84 by definition (RFC 7946); a Shapefile without .prj is checked
        # below against longitude/latitude ranges.
        return None, "EPSG:4326"
    try:
        crs = CRS.from_user_input(crs_text)
    except CRSError as exc:
        raise GridFileError(f"无法识别文件的坐标参考系（{crs_text}）：{exc}") from exc
    authority = crs.to_authority()
    name = f"{authority[0]}:{authority[1]}" if authority else crs.name
    if name in _LONLAT_CRS or (
        crs.is_geographic
        and crs.ellipsoid
        and crs.ellipsoid.name.startswith(("WGS 84", "CGCS2000", "GRS 1980"))
    ):
        return None, name
    return Transformer.from_crs(crs, "EPSG:4326", always_xy=True), name


def read_features(
    path: str | Path, *, layer: str | None = None, encoding: str | None = None, gcj02: bool = False
) -> FeatureSet:
    """Read every feature of a polygon file, converted to WGS-84 longitude/latitude.

    ``gcj02`` says the coordinates are GCJ-02 (as exported from Chinese web maps); they are
    then converted to WGS-84. Raises :class:`GridFileError` when the file cannot be used.
    """
    source = Path(path)
    if not source.exists():
        raise GridFileError(f"找不到文件：{source}")
    suffix = source.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise GridFileError(
            f"不支持的文件类型「{source.suffix or source.name}」。请使用 GeoJSON（.geojson/.json）、"
            "Shapefile（.shp，或打包的 .zip）或 GeoPackage（.gpkg）。"
        )
    if suffix == ".shp":
        missing = [
            ext
            for ext in (".shx", ".dbf")
            if not source.with_suffix(ext).exists() and not source.with_suffix(ext.upper()).exists()
        ]
        if missing:
            raise GridFileError(
                f"Shapefile 不完整：缺少同名的 {'、'.join(missing)} 文件。"
                "请把 .shp、.shx、.dbf、.prj 放在同一目录，或打包成 .zip。"
            )
    gdal_path = f"/vsizip/{source}" if suffix == ".zip" else str(source)
    try:
        meta, _fids, wkb, field_data = pyogrio.raw.read(gdal_path, layer=layer, encoding=encoding)
    except pyogrio.errors.DataLayerError as exc:
        try:
            layers = [str(row[0]) for row in pyogrio.list_layers(gdal_path)]
        except Exception:  # the layer list is only a hint in the message
            layers = []
        hint = f"文件中的图层有：{'、'.join(layers)}。" if layers else ""
        raise GridFileError(f"无法读取图层「{layer or ''}」：{exc}。{hint}") from exc
    except (pyogrio.errors.DataSourceError, pyogrio.errors.GeometryError, pyogrio.errors.FieldError) as exc:
        raise GridFileError(
            f"无法读取文件 {source.name}：文件已损坏或不是支持的地理数据格式（{exc}）。"
        ) from exc
    except UnicodeDecodeError as exc:
        raise GridFileError(
            f"文件 {source.name} 的属性表编码无法识别。"
            "Shapefile 常用 GBK 编码，请指定编码（例如 --encoding gbk）。"
        ) from exc

    fields = [str(name) for name in meta["fields"]]
    if wkb is None or len(wkb) == 0:
        raise GridFileError(f"文件 {source.name} 中没有任何要素。")
    transformer, crs_name = _to_wgs84(meta.get("crs"))

    problems: list[str] = []
    features: list[Feature] = []
    for index in range(len(wkb)):
        number = index + 1
        properties = {name: _plain(field_data[i][index]) for i, name in enumerate(fields)}
        raw = wkb[index]
        try:
            geom = shapely.from_wkb(raw) if raw is not None else None
        except shapely.errors.GEOSException as exc:  # e.g. a ring of two points, found by fuzzing
            problems.append(f"第 {number} 个要素的几何图形无效（{exc}）")
            continue
        if geom is None or geom.is_empty:
            problems.append(f"第 {number} 个要素没有几何图形")
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(
                f"第 {number} 个要素是{_TYPE_NAMES.get(geom.geom_type, geom.geom_type)}，"
                "网格必须是面（多边形）"
            )
            continue
        if shapely.has_z(geom):
            geom = shapely.force_2d(geom)
        features.append(Feature(number, geom, properties))
    if problems:
        listed = "；".join(problems[:_MAX_LISTED])
        more = f"；另有 {len(problems) - _MAX_LISTED} 处" if len(problems) > _MAX_LISTED else ""
        raise GridFileError(f"文件 {source.name} 有 {len(problems)} 处问题：{listed}{more}。")

    notes: list[str] = []
    geoms = np.array([f.geometry for f in features], dtype=object)
    if transformer is not None:
        geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
        )
        notes.append(f"坐标已从 {crs_name} 转换为 WGS-84")
    bounds = shapely.total_bounds(geoms)
    if not is_lonlat_bounds(bounds):
        raise GridFileError(
            f"文件 {source.name} 的坐标不是经纬度（"
            f"范围 {bounds[0]:.1f}, {bounds[1]:.1f} – {bounds[2]:.1f}, {bounds[3]:.1f}）。"
            "若是投影坐标，请附上 .prj 文件或在 GIS 软件中导出为 WGS-84/CGCS2000 经纬度。"
        )
    if gcj02:
        geoms = shapely.transform(geoms, gcj02_coords_to_wgs84)
        notes.append("坐标已从 GCJ-02（火星坐标）转换为 WGS-84")
    for feature, geom in zip(features, geoms, strict=True):
        feature.geometry = geom
    return FeatureSet(str(source), features, fields, crs_name, notes)


def read_boundary(path: str | Path, *, gcj02: bool = False, layer: str | None = None) -> BaseGeometry:
    """A district boundary: all polygons of the file merged into one (multi)polygon."""
    feature_set = read_features(path, gcj02=gcj02, layer=layer)
    merged = shapely.union_all([f.geometry for f in feature_set.features])
    if not merged.is_valid or merged.is_empty:
        raise GridFileError(f"辖区边界文件 {Path(path).name} 的多边形无效：{shapely.is_valid_reason(merged)}")
    return merged


_TYPE_NAMES = {
    "Point": "点",
    "MultiPoint": "多点",
    "LineString": "线",
    "MultiLineString": "多线",
    "GeometryCollection": "几何集合",
}


@dataclass
class PointFeature:
    number: int
    lon: float
    lat: float
    properties: dict[str, Any]


def read_points(
    path: str | Path, *, layer: str | None = None, encoding: str | None = None, gcj02: bool = False
) -> tuple[list[PointFeature], list[str], list[str]]:
    """Point features (components, facilities) in WGS-84: (points, field names, notes)."""
    source = Path(path)
    if not source.exists():
        raise GridFileError(f"找不到文件：{source}")
    if source.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise GridFileError(
            f"不支持的文件类型「{source.suffix or source.name}」。"
            "请使用 GeoJSON、Shapefile（.shp 或 .zip）或 GeoPackage。"
        )
    gdal_path = f"/vsizip/{source}" if source.suffix.lower() == ".zip" else str(source)
    try:
        meta, _fids, wkb, field_data = pyogrio.raw.read(gdal_path, layer=layer, encoding=encoding)
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        pyogrio.errors.GeometryError,
    ) as exc:
        raise GridFileError(
            f"无法读取文件 {source.name}：文件已损坏或不是支持的地理数据格式（{exc}）。"
        ) from exc
    fields = [str(name) for name in meta["fields"]]
    if wkb is None or len(wkb) == 0:
        raise GridFileError(f"文件 {source.name} 中没有任何要素。")
    transformer, crs_name = _to_wgs84(meta.get("crs"))
    problems: list[str] = []
    points: list[PointFeature] = []
    for index in range(len(wkb)):
        geom = shapely.from_wkb(wkb[index]) if wkb[index] is not None else None
        if geom is not None and geom.geom_type == "MultiPoint" and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        if geom is None or geom.is_empty or geom.geom_type != "Point":
            kind = (
                "没有几何图形"
                if geom is None or geom.is_empty
                else f"是{_TYPE_NAMES.get(geom.geom_type, geom.geom_type)}"
            )
            problems.append(f"第 {index + 1} 个要素{kind}，部件必须是点")
            continue
        properties = {name: _plain(field_data[i][index]) for i, name in enumerate(fields)}
        points.append(PointFeature(index + 1, float(geom.x), float(geom.y), properties))
    if problems:
        listed = "；".join(problems[:_MAX_LISTED])
        more = f"；另有 {len(problems) - _MAX_LISTED} 处" if len(problems) > _MAX_LISTED else ""
        raise GridFileError(f"文件 {source.name} 有 {len(problems)} 处问题：{listed}{more}。")
    notes = []
    xy = np.array([(p.lon, p.lat) for p in points], dtype=float)
    if transformer is not None:
        lon, lat = transformer.transform(xy[:, 0], xy[:, 1])
        xy = np.column_stack([lon, lat])
        notes.append(f"坐标已从 {crs_name} 转换为 WGS-84")
    if not is_lonlat_bounds([xy[:, 0].min(), xy[:, 1].min(), xy[:, 0].max(), xy[:, 1].max()]):
        raise GridFileError(f"文件 {source.name} 的坐标不是经纬度。若是投影坐标，请附上 .prj 文件。")
    if gcj02:
        xy = gcj02_coords_to_wgs84(xy)
        notes.append("坐标已从 GCJ-02（火星坐标）转换为 WGS-84")
    for point, (lon, lat) in zip(points, xy.tolist(), strict=True):
        point.lon, point.lat = lon, lat
    return points, fields, notes
