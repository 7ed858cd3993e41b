"""Likely duplicates: the distance maths (properties) and the selector on real cases."""

from __future__ import annotations

import math

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from chengguan.cases.duplicates import (
    EARTH_RADIUS_M,
    METRES_PER_DEGREE_LAT,
    bounding_box,
    distance_m,
    likely_duplicates,
    nearest,
)
from chengguan.cases.tests.conftest import at
from chengguan.catalog.models import Category

MON = "2026-11-23"
# 红山区, Chifeng: the demo district
LAT, LON = 42.2686, 118.9576

lats = st.floats(min_value=-89.9, max_value=89.9, allow_nan=False)
lons = st.floats(min_value=-179.9, max_value=179.9, allow_nan=False)
points = st.tuples(lats, lons)
# Points of a district: within about ±0.5° of each other, where duplicates are looked for.
offsets = st.floats(min_value=-0.5, max_value=0.5, allow_nan=False)


@given(points, points)
def test_distance_is_symmetric_and_never_negative(a, b) -> None:
    d = distance_m(*a, *b)
    assert d >= 0
    assert math.isclose(d, distance_m(*b, *a), rel_tol=1e-12, abs_tol=1e-6)


@given(points)
def test_a_point_is_at_zero_distance_from_itself(a) -> None:
    assert distance_m(*a, *a) == 0


@given(points, points, points)
def test_triangle_inequality(a, b, c) -> None:
    assert distance_m(*a, *c) <= distance_m(*a, *b) + distance_m(*b, *c) + 1e-6


@given(points, points)
def test_never_more_than_half_the_globe(a, b) -> None:
    assert distance_m(*a, *b) <= math.pi * EARTH_RADIUS_M + 1e-6


@given(st.floats(min_value=-80, max_value=80), lons, offsets)
def test_along_a_meridian_the_distance_is_the_arc(lat, lon, dlat) -> None:
    # On a sphere a meridian is a great circle: distance = R × Δφ exactly.
    expected = abs(dlat) * METRES_PER_DEGREE_LAT
    assert math.isclose(distance_m(lat, lon, lat + dlat, lon), expected, rel_tol=1e-9, abs_tol=1e-6)


@given(
    st.floats(min_value=-60, max_value=60),
    st.floats(min_value=-170, max_value=170),
    offsets,
    offsets,
    st.floats(min_value=1, max_value=50_000),
)
def test_the_bounding_box_holds_every_point_within_the_radius(lat, lon, dlat, dlon, radius) -> None:
    other = (lat + dlat, lon + dlon)
    box = bounding_box(lat, lon, radius)
    if distance_m(lat, lon, *other) <= radius:
        assert box.south <= other[0] <= box.north
        assert box.west <= other[1] <= box.east


def test_the_box_spans_all_longitudes_at_a_pole() -> None:
    box = bounding_box(89.9999, 10, 1000)
    assert (box.west, box.east) == (-180.0, 180.0) and box.north == 90.0


def test_nearest_keeps_the_radius_and_orders_by_distance_then_id() -> None:
    east_30 = LON + 30 / (METRES_PER_DEGREE_LAT * math.cos(math.radians(LAT)))
    north_60 = LAT + 60 / METRES_PER_DEGREE_LAT
    north_160 = LAT + 160 / METRES_PER_DEGREE_LAT
    found = nearest(
        (LAT, LON), [(7, north_60, LON), (3, LAT, east_30), (5, north_160, LON), (2, LAT, east_30)], 100, 5
    )
    assert [pk for pk, _ in found] == [2, 3, 7]
    assert [round(d) for _, d in found] == [30, 30, 60]
    assert nearest((LAT, LON), [(1, LAT, LON)], 100, 0) == []


def north_of(metres: float) -> float:
    return LAT + metres / METRES_PER_DEGREE_LAT


@pytest.fixture
def here(world):
    def report(when: str, metres_north: float = 0, **kw):
        return world.report(at(MON, when), lat=north_of(metres_north), lon=LON, **kw)

    return report


def test_open_cases_of_the_same_category_nearby_are_offered_nearest_first(world, here) -> None:
    far = here("08:00", 150)
    near = here("08:10", 40)
    nearer = here("08:20", 10)
    other_kind = Category.objects.create(
        kind="matter", code="06020", major_code="06", major_name="市容环境", name="积存垃圾渣土"
    )
    here("08:30", 5, category=other_kind)
    closed = here("08:40", 1, self_handled=True)
    world.act(closed, "approve_self_handling", "shift_leader", at(MON, "08:50"))
    new = here("09:00")
    found = likely_duplicates(new)
    assert [c.case for c in found] == [nearer, near]
    assert [round(c.distance_m) for c in found] == [10, 40]
    assert far not in [c.case for c in found]
    assert [c.case for c in likely_duplicates(new, radius_m=200)] == [nearer, near, far]
    assert [c.case for c in likely_duplicates(new, limit=1)] == [nearer]


def test_only_cases_reported_within_the_window(world, here, settings) -> None:
    old = world.report(at("2026-11-19", "09:00"), lat=north_of(20), lon=LON)  # 4 days before
    recent = world.report(at("2026-11-21", "10:00"), lat=north_of(30), lon=LON)  # 47 h before
    new = here("09:00")
    assert [c.case for c in likely_duplicates(new)] == [recent]
    settings.CHENGGUAN_DUPLICATE_WINDOW_HOURS = 24
    assert likely_duplicates(new) == []
    assert [c.case for c in likely_duplicates(new, window_hours=120)] == [old, recent]  # 20 m, 30 m


def test_the_radius_comes_from_the_settings(world, here, settings) -> None:
    near = here("08:00", 60)
    new = here("09:00")
    assert [c.case for c in likely_duplicates(new)] == [near]
    settings.CHENGGUAN_DUPLICATE_RADIUS_M = 50
    assert likely_duplicates(new) == []


def test_a_case_without_a_point_has_no_likely_duplicates(world, here) -> None:
    here("08:00")
    addressed = world.report(at(MON, "09:00"))  # address only
    assert likely_duplicates(addressed) == []


def test_the_lookup_is_indexed(db) -> None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "cases_case")
    assert constraints["case_duplicate_lookup"]["columns"] == ["category_id", "lat", "lon"]
