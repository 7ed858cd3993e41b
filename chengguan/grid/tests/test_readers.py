from __future__ import annotations

import zipfile

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from chengguan.grid.gcj02 import wgs84_to_gcj02
from chengguan.grid.readers import GridFileError, read_boundary, read_features
from chengguan.grid.tests.conftest import metres_box, two_by_two, write_geojson, write_with_gdal


def _same_shapes(features, expected) -> bool:
    return all(
        shapely.equals_exact(
            shapely.normalize(f.geometry),
            shapely.normalize(shapely.MultiPolygon([g]) if f.geometry.geom_type == "MultiPolygon" else g),
            1e-9,
        )
        for f, (g, _) in zip(features, expected, strict=True)
    )


def test_geojson_features_keep_attributes_and_order(tmp_path):
    data = two_by_two()
    fs = read_features(write_geojson(tmp_path / "c.geojson", data))
    assert [f.properties["name"] for f in fs.features] == ["社区00", "社区01", "社区10", "社区11"]
    assert [f.number for f in fs.features] == [1, 2, 3, 4]
    assert _same_shapes(fs.features, data)
    assert fs.notes == []


def test_shapefile_with_gbk_attributes_and_zipped(tmp_path):
    data = two_by_two()
    shp = write_with_gdal(tmp_path / "c.shp", data, driver="ESRI Shapefile", encoding="GBK")
    fs = read_features(shp)
    assert [f.properties["name"] for f in fs.features] == ["社区00", "社区01", "社区10", "社区11"]
    assert _same_shapes(fs.features, data)
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("c.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    assert [f.properties["code"] for f in read_features(archive).features] == [
        f.properties["code"] for f in fs.features
    ]


def test_geopackage_layer_is_chosen_by_name(tmp_path):
    path = tmp_path / "grid.gpkg"
    write_with_gdal(path, two_by_two(), driver="GPKG", layer="communities")
    assert len(read_features(path, layer="communities").features) == 4
    with pytest.raises(GridFileError, match="communities"):
        read_features(path, layer="streets")


def test_projected_cgcs2000_coordinates_are_converted(tmp_path):
    data = two_by_two()
    to_gk = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)  # CGCS2000 / 3-degree GK CM 120E
    projected = [
        (
            shapely.transform(g, lambda xy: np.column_stack(to_gk.transform(xy[:, 0], xy[:, 1]))),
            p,
        )
        for g, p in data
    ]
    fs = read_features(write_with_gdal(tmp_path / "gk.gpkg", projected, driver="GPKG", crs="EPSG:4549"))
    assert "EPSG:4549" in fs.notes[0]
    for feature, (original, _) in zip(fs.features, data, strict=True):
        assert shapely.hausdorff_distance(feature.geometry, original) < 1e-7  # about a centimetre


def test_gcj02_input_is_converted_on_request(tmp_path):
    original = metres_box(0, 0, 300, 300)
    shifted = shapely.transform(original, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))
    path = write_geojson(tmp_path / "gcj.geojson", [(shifted, {"name": "a"})])
    as_is = read_features(path).features[0].geometry
    converted = read_features(path, gcj02=True)
    assert shapely.hausdorff_distance(as_is, original) > 0.003  # hundreds of metres off
    assert shapely.hausdorff_distance(converted.features[0].geometry, original) < 1e-8
    assert any("GCJ-02" in note for note in converted.notes)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("missing.geojson", None, "找不到文件"),
        ("grid.csv", "a,b\n1,2\n", "不支持的文件类型"),
        ("broken.geojson", '{"type": "FeatureCollection", "features": [', "无法读取文件"),
        ("empty.geojson", '{"type": "FeatureCollection", "features": []}', "没有任何要素"),
        (
            "points.geojson",
            '{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},'
            '"geometry":{"type":"Point","coordinates":[118.9,42.2]}}]}',
            "第 1 个要素是点，网格必须是面",
        ),
    ],
)
def test_unusable_files_get_a_clear_message(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(GridFileError, match=message):
        read_features(path)


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_incomplete_shapefile_and_projected_without_prj(tmp_path):
    shp = write_with_gdal(tmp_path / "c.shp", two_by_two(), driver="ESRI Shapefile")
    (tmp_path / "c.dbf").unlink()
    with pytest.raises(GridFileError, match=r"缺少同名的 \.dbf"):
        read_features(shp)
    to_gk = Transformer.from_crs("EPSG:4326", "EPSG:4549", always_xy=True)
    gk = [
        (
            shapely.transform(g, lambda xy: np.column_stack(to_gk.transform(xy[:, 0], xy[:, 1]))),
            p,
        )
        for g, p in two_by_two()
    ]
    shp2 = write_with_gdal(tmp_path / "gk.shp", gk, driver="ESRI Shapefile", crs=None)
    with pytest.raises(GridFileError, match="坐标不是经纬度"):
        read_features(shp2)


def test_boundary_merges_all_polygons(tmp_path):
    path = write_geojson(tmp_path / "b.geojson", two_by_two())
    boundary = read_boundary(path)
    assert boundary.geom_type == "Polygon"
    assert shapely.equals(boundary, metres_box(0, 0, 400, 400))
