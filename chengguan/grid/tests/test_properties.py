"""Properties the seed demands of any grid the generator makes: full coverage, no overlap,
no gap at every level, and every point inside found in exactly one cell per level whose
parents are consistent."""

from __future__ import annotations

import math

import numpy as np
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chengguan.grid.generator import GeneratorParams, TerritoryInput, generate_grid
from chengguan.grid.geometry import metres_per_degree
from chengguan.grid.locator import Locator, LocatorInput
from chengguan.grid.tests.conftest import LAT0, metres_polygon
from chengguan.grid.validation import Tolerances, validate

TOLERANCE = Tolerances()


@st.composite
def districts(draw):
    """Random star-shaped districts of roughly 0.3–2.5 km², with 1–3 territories."""
    n = draw(st.integers(min_value=5, max_value=11))
    angles = sorted(
        draw(st.lists(st.floats(0, 2 * math.pi, exclude_max=True), min_size=n, max_size=n, unique=True))
    )
    radii = draw(st.lists(st.floats(250, 900), min_size=n, max_size=n))
    polygon = metres_polygon([(r * math.cos(a), r * math.sin(a)) for a, r in zip(angles, radii, strict=True)])
    if not polygon.is_valid or polygon.area <= 0:
        polygon = shapely.make_valid(polygon).buffer(0)
    territories = draw(st.integers(min_value=1, max_value=3))
    unit = draw(st.sampled_from([60.0, 100.0]))
    return polygon, territories, unit


PROPERTY_SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(districts())
def test_generated_grid_covers_without_gap_or_overlap(district):
    boundary, count, unit = district
    grid = generate_grid(
        boundary,
        [TerritoryInput(i, f"{i:03d}", f"片{i}") for i in range(1, count + 1)],
        county_code="150402",
        params=GeneratorParams(unit_size_m=unit),
    )
    report = validate(grid.validation_inputs(), boundary=boundary, tolerances=TOLERANCE)
    # No gap, overlap, nesting or geometry error above tolerance, at any level.
    assert report.ok, report.format_text()
    assert not [i for i in report.issues if i.kind != "sliver"]
    mlon, mlat = metres_per_degree(LAT0)
    tolerance_deg2 = TOLERANCE.area_m2 / (mlon * mlat)
    for level in (1, 2, 3, 4):
        geoms = np.array([c.geometry for c in grid.cells if c.level == level], dtype=object)
        # Independent of the validator: the cells' areas add up to the district's, and their
        # union differs from it by less than the tolerance (rounding debris only).
        assert abs(shapely.area(geoms).sum() - boundary.area) <= tolerance_deg2
        mismatch = shapely.area(shapely.symmetric_difference(shapely.union_all(geoms), boundary))
        assert mismatch <= tolerance_deg2


@PROPERTY_SETTINGS
@given(districts(), st.integers(min_value=0, max_value=2**32 - 1))
def test_every_point_inside_has_one_consistent_cell_per_level(district, seed):
    boundary, count, unit = district
    grid = generate_grid(
        boundary,
        [TerritoryInput(i, f"{i:03d}", f"片{i}") for i in range(1, count + 1)],
        county_code="150402",
        params=GeneratorParams(unit_size_m=unit),
    )
    cells = [
        LocatorInput(i, c.level, c.code, c.name, c.parent, c.territory, c.geometry)
        for i, c in enumerate(grid.cells)
    ]
    locator = Locator(cells, lattice=grid.lattice.as_dict(), boundary=boundary)
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = boundary.bounds
    x, y = rng.uniform(minx, maxx, 3000), rng.uniform(miny, maxy, 3000)
    inside = shapely.contains_xy(boundary, x, y)
    x, y = x[inside], y[inside]
    batch = locator.locate_many(x, y)
    assert batch.found.all()
    ids = np.column_stack([batch.ids(level) for level in (1, 2, 3, 4)])
    assert (ids >= 0).all()  # one cell at every level
    for row, px, py in zip(ids.tolist(), x.tolist(), y.tolist(), strict=True):
        management, responsibility, area, unit_id = row
        assert grid.cells[unit_id].parent == area
        assert grid.cells[area].parent == responsibility
        assert grid.cells[responsibility].parent == management
        assert shapely.intersects(grid.cells[unit_id].geometry, shapely.Point(px, py))
        assert grid.cells[unit_id].territory == grid.cells[management].territory
    # The single-point path gives the same answers.
    for k in range(0, len(x), 50):
        one = locator.locate(float(x[k]), float(y[k]))
        assert [c.id if c else -1 for c in one.cells] == ids[k].tolist()
