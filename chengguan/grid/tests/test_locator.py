from __future__ import annotations

import numpy as np
import pytest
import shapely

from chengguan.grid.generator import TerritoryInput, generate_grid
from chengguan.grid.locator import IN_GAP, OUTSIDE_BOUNDARY, OUTSIDE_EXTENT, Locator, LocatorInput
from chengguan.grid.readers import read_features
from chengguan.grid.tests.conftest import metres_polygon, shared_file

# Coordinates that are exact binary fractions, so "on the edge" is exactly on the edge.
X0, Y0, D = 100.0, 30.0, 0.25


def square(i: int, j: int) -> shapely.Polygon:
    return shapely.box(X0 + i * D, Y0 + j * D, X0 + (i + 1) * D, Y0 + (j + 1) * D)


def two_by_two(lattice: bool) -> Locator:
    """A management cell with four unit squares: codes 01 SW, 02 NW, 03 SE, 04 NE."""
    cells = [LocatorInput(1, 1, "A", "管理", None, 7, shapely.box(X0, Y0, X0 + 2 * D, Y0 + 2 * D))]
    for n, (i, j) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)], start=1):
        cells.append(LocatorInput(10 + n, 4, f"A0{n}", f"单元{n}", 1, 7, square(i, j)))
    grid = {"lon0": X0, "lat0": Y0, "dlon": D, "dlat": D, "nx": 2, "ny": 2} if lattice else None
    return Locator(cells, lattice=grid, boundary=shapely.box(X0, Y0, X0 + 2 * D, Y0 + 2 * D))


@pytest.fixture(params=[True, False], ids=["lattice", "raster"])
def small(request) -> Locator:
    return two_by_two(request.param)


def unit_code(locator: Locator, lon: float, lat: float) -> str | None:
    single = locator.locate(lon, lat)
    batch = locator.locate_many([lon], [lat])
    assert batch.codes(4)[0] == (single.unit.code if single.unit else None)
    return single.unit.code if single.unit else None


def test_inside_points_get_all_levels(small):
    location = small.locate(X0 + 0.1, Y0 + 0.4)
    assert location.found and location.unit is not None and location.management is not None
    assert (location.unit.code, location.management.code, location.territory_id) == ("A02", "A", 7)
    assert location.responsibility is None and location.area is None  # levels the grid does not have
    assert location.at(4) is location.unit


def test_shared_edges_go_east_then_north(small):
    mid_x, mid_y = X0 + D, Y0 + D
    assert unit_code(small, mid_x, Y0 + 0.1) == "A03"  # on the north-south edge: the eastern cell
    assert unit_code(small, X0 + 0.1, mid_y) == "A02"  # on the east-west edge: the northern cell
    assert unit_code(small, mid_x, mid_y) == "A04"  # on the corner: the north-eastern cell
    assert unit_code(small, X0, Y0) == "A01"  # the district's own south-west corner is inside
    assert unit_code(small, X0 + 2 * D, Y0 + 0.1) is None  # its east edge is not


def test_slanted_shared_edge_has_exactly_one_owner():
    below = shapely.Polygon([(X0, Y0), (X0 + 2 * D, Y0), (X0 + 2 * D, Y0 + 2 * D)])
    above = shapely.Polygon([(X0, Y0), (X0 + 2 * D, Y0 + 2 * D), (X0, Y0 + 2 * D)])
    locator = Locator(
        [LocatorInput(1, 4, "B1", "下", None, None, below), LocatorInput(2, 4, "B2", "上", None, None, above)]
    )
    t = np.linspace(0.01, 0.99, 199)
    x, y = X0 + t * 2 * D, Y0 + t * 2 * D  # points on (or within a rounding error of) the diagonal
    batch = locator.locate_many(x, y)
    assert batch.found.all()
    on_line = x == y - Y0 + X0
    assert set(np.array(batch.codes(4), dtype=object)[on_line]) == {"B1"}  # exactly on it: the eastern side
    assert unit_code(locator, X0 + D, Y0 + D) == "B1"


def test_misses_say_why():
    holed = shapely.difference(square(0, 0), shapely.box(X0 + 0.1, Y0 + 0.1, X0 + 0.15, Y0 + 0.15))
    locator = Locator(
        [
            LocatorInput(1, 4, "C1", "c", None, None, holed),
            LocatorInput(2, 4, "C2", "d", None, None, square(1, 0)),
        ],
        boundary=shapely.Polygon([(X0, Y0), (X0 + 2 * D, Y0), (X0 + 2 * D, Y0 + D), (X0, Y0 + D)]),
    )
    assert locator.locate(X0 - 1, Y0).reason == OUTSIDE_EXTENT
    assert locator.locate(X0 + 0.12, Y0 + 0.12).reason == IN_GAP
    assert "缝隙" in locator.locate(X0 + 0.12, Y0 + 0.12).message
    assert not locator.locate(X0 + 0.12, Y0 + 0.12).found
    batch = locator.locate_many([X0 - 1, X0 + 0.12, X0 + 0.05], [Y0, Y0 + 0.12, Y0 + 0.05])
    assert batch.reason.tolist() == [OUTSIDE_EXTENT, IN_GAP, 0]
    assert batch.ids(4).tolist() == [-1, -1, 1]
    shaped = Locator(
        [LocatorInput(1, 4, "T", "t", None, None, shapely.Polygon([(X0, Y0), (X0 + 1, Y0), (X0, Y0 + 1)]))],
        boundary=shapely.Polygon([(X0, Y0), (X0 + 1, Y0), (X0, Y0 + 1)]),
    )
    assert shaped.locate(X0 + 0.9, Y0 + 0.9).reason == OUTSIDE_BOUNDARY


def test_overlapping_cells_resolve_to_the_smaller_code():
    wide = shapely.box(X0, Y0, X0 + 1, Y0 + 1)
    locator = Locator(
        [
            LocatorInput(1, 4, "Z9", "z", None, None, wide),
            LocatorInput(2, 4, "A1", "a", None, None, square(1, 1)),
        ]
    )
    assert locator.locate(X0 + 1.5 * D, Y0 + 1.5 * D).unit.code == "A1"
    assert locator.locate(X0 + 0.9, Y0 + 0.9).unit.code == "Z9"


def test_upper_level_answers_where_the_lowest_level_has_a_gap():
    cells = [
        LocatorInput(1, 1, "M", "管理", None, 3, shapely.box(X0, Y0, X0 + 2 * D, Y0 + D)),
        LocatorInput(2, 2, "M01", "责任", 1, 3, square(0, 0)),  # only the western half
    ]
    locator = Locator(cells)
    assert not locator.nested
    east = locator.locate(X0 + 1.5 * D, Y0 + 0.1)
    assert east.found and east.management.code == "M" and east.responsibility is None
    batch = locator.locate_many([X0 + 1.5 * D, X0 + 0.1], [Y0 + 0.1, Y0 + 0.1])
    assert batch.codes(1) == ["M", "M"] and batch.codes(2) == [None, "M01"]
    assert batch.territory_ids().tolist() == [3, 3]


def test_generated_grid_agrees_with_shapely_and_itself():
    district = metres_polygon([(0, 0), (1300, 100), (1200, 900), (400, 1200), (-100, 700)])
    grid = generate_grid(
        district, [TerritoryInput(i, f"{i:03d}", f"片{i}") for i in (1, 2)], county_code="150402"
    )
    cells = [
        LocatorInput(
            i + 1,
            c.level,
            c.code,
            c.name,
            (c.parent + 1) if c.parent is not None else None,
            c.territory,
            c.geometry,
        )
        for i, c in enumerate(grid.cells)
    ]
    locator = Locator(cells, lattice=grid.lattice.as_dict(), boundary=district)
    assert locator.nested and len(locator.rasters) == 1
    rng = np.random.default_rng(5)
    minx, miny, maxx, maxy = district.bounds
    x, y = rng.uniform(minx, maxx, 20_000), rng.uniform(miny, maxy, 20_000)
    batch = locator.locate_many(x, y)
    units = [c for c in grid.cells if c.level == 4]
    tree = shapely.STRtree([c.geometry for c in units])
    pairs = tree.query(shapely.points(x, y), predicate="intersects")
    expected: dict[int, set[str]] = {}
    for p, u in pairs.T.tolist():
        expected.setdefault(p, set()).add(units[u].code)
    codes = batch.codes(4)
    for k in range(len(x)):
        assert (codes[k] in expected[k]) if k in expected else codes[k] is None
    for k in range(0, len(x), 97):
        single = locator.locate(float(x[k]), float(y[k]))
        assert [c.code if c else None for c in single.cells] == [
            batch.codes(level)[k] for level in (1, 2, 3, 4)
        ]


def test_real_irregular_grid_matches_shapely():
    path = shared_file("boundaries", "sip_communities_wgs84.geojson")
    features = read_features(path).features
    cells = [
        LocatorInput(i, 2, f"{i:04d}", str(f.properties["name"]), None, None, f.geometry)
        for i, f in enumerate(features)
    ]
    locator = Locator(cells)
    geoms = np.array([f.geometry for f in features], dtype=object)
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    rng = np.random.default_rng(11)
    x, y = rng.uniform(minx, maxx, 30_000), rng.uniform(miny, maxy, 30_000)
    found = locator.locate_many(x, y).ids(2)
    pairs = shapely.STRtree(geoms).query(shapely.points(x, y), predicate="intersects")
    expected: dict[int, set[int]] = {}
    for p, c in pairs.T.tolist():
        expected.setdefault(p, set()).add(c)
    for k in range(len(x)):
        assert (found[k] in expected[k]) if k in expected else found[k] == -1
