from __future__ import annotations

import json

import numpy as np
import shapely
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Geod

from chengguan.grid.gcj02 import gcj02_coords_to_wgs84, gcj02_to_wgs84, wgs84_to_gcj02
from chengguan.grid.tests.conftest import shared_file

GEOD = Geod(ellps="WGS84")


def _coords(path) -> np.ndarray:
    data = json.loads(path.read_text(encoding="utf-8"))
    return shapely.get_coordinates(shapely.from_geojson(json.dumps(data["features"][0]["geometry"])))


def test_hongshan_gcj02_file_converts_onto_the_wgs84_file():
    gcj = _coords(shared_file("boundaries", "hongshan_150402_gcj02.geojson"))
    wgs = _coords(shared_file("boundaries", "hongshan_150402_wgs84.geojson"))
    assert gcj.shape == wgs.shape
    converted = gcj02_coords_to_wgs84(gcj)
    _, _, raw_offset = GEOD.inv(gcj[:, 0], gcj[:, 1], wgs[:, 0], wgs[:, 1])
    _, _, residual = GEOD.inv(converted[:, 0], converted[:, 1], wgs[:, 0], wgs[:, 1])
    assert raw_offset.min() > 400  # the files really differ by the GCJ-02 offset (~560 m there)
    assert residual.max() < 3.0  # and the conversion puts them within a few metres


@given(
    st.floats(min_value=73.0, max_value=135.0, allow_nan=False),
    st.floats(min_value=18.0, max_value=53.0, allow_nan=False),
)
def test_inverse_undoes_forward_inside_china(lon, lat):
    glon, glat = wgs84_to_gcj02(lon, lat)
    _, _, offset = GEOD.inv(lon, lat, float(glon), float(glat))
    assert 1 < offset < 1500  # GCJ-02 moves every point in China by tens to hundreds of metres
    back_lon, back_lat = gcj02_to_wgs84(glon, glat)
    _, _, error = GEOD.inv(lon, lat, float(back_lon), float(back_lat))
    assert error < 0.01


def test_points_outside_china_are_unchanged():
    lon, lat = gcj02_to_wgs84(np.array([2.35, -74.0]), np.array([48.85, 40.7]))
    assert lon.tolist() == [2.35, -74.0] and lat.tolist() == [48.85, 40.7]
