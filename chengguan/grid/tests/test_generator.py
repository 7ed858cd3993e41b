from __future__ import annotations

import re

import numpy as np
import pytest
import shapely

from chengguan.grid.generator import GeneratorError, TerritoryInput, generate_grid, split_into_territories
from chengguan.grid.geometry import areas_m2
from chengguan.grid.tests.conftest import metres_box, metres_polygon
from chengguan.grid.validation import validate

# An L-shaped district of 1.2 km² with a slanted edge, split into two subdistricts.
DISTRICT = metres_polygon([(0, 0), (1500, 0), (1500, 500), (700, 500), (650, 1100), (0, 1100), (0, 0)])
WEST = metres_polygon([(-50, -50), (620, -50), (560, 1200), (-50, 1200)])
EAST = metres_polygon([(620, -50), (1600, -50), (1600, 1200), (560, 1200)])


def territories(with_geometry: bool = True) -> list[TerritoryInput]:
    return [
        TerritoryInput("w", "001", "西街道", WEST if with_geometry else None),
        TerritoryInput("e", "002", "东街道", EAST if with_geometry else None),
    ]


@pytest.fixture(scope="module")
def generated():
    return generate_grid(DISTRICT, territories(), county_code="150402")


def test_generated_grid_is_valid_at_every_level(generated):
    report = validate(generated.validation_inputs(), boundary=DISTRICT)
    assert report.ok, report.format_text()
    assert report.issues == []
    for level in (1, 2, 3, 4):
        assert report.levels[level]["area_m2"] == pytest.approx(report.boundary_area_m2, rel=1e-6)


def test_unit_cells_are_near_ten_thousand_square_metres(generated):
    units = np.array([c.geometry for c in generated.cells if c.level == 4], dtype=object)
    areas = areas_m2(units)
    lattice = generated.lattice
    intact = np.isclose(shapely.area(units), lattice.dlon * lattice.dlat, rtol=1e-9)  # whole squares
    assert intact.sum() > 0.4 * len(units)  # a small district: many cells touch a border
    assert np.allclose(areas[intact], 10_000, rtol=0.01)  # the lattice squares
    assert np.median(areas) == pytest.approx(10_000, rel=0.01)
    assert areas.min() >= 0.3 * 10_000 * 0.99  # border pieces under 30 % were merged away
    assert areas.max() < 2 * 10_000  # a square plus the small pieces merged into it


def test_units_follow_territory_borders(generated):
    by_key = {"w": shapely.intersection(WEST, DISTRICT), "e": shapely.intersection(EAST, DISTRICT)}
    for cell in generated.cells:
        inside = shapely.area(shapely.difference(cell.geometry, by_key[cell.territory]))
        assert inside < 1e-12, cell.code


def test_codes_follow_the_standard(generated):
    unit_codes = [c.code for c in generated.cells if c.level == 4]
    assert all(re.fullmatch(r"150402(001|002)\d{3}\d{3}", code) for code in unit_codes)
    assert len(set(c.code for c in generated.cells)) == len(generated.cells)
    for cell in generated.cells:
        if cell.parent is not None:
            parent = generated.cells[cell.parent]
            assert parent.level == cell.level - 1
            assert cell.code.startswith(parent.code[:12] if cell.level == 4 else parent.code)
            assert cell.territory == parent.territory
    assert [c.name for c in generated.cells if c.level == 1] == ["西街道管理网格", "东街道管理网格"]


def test_generation_is_deterministic(generated):
    again = generate_grid(DISTRICT, territories(), county_code="150402")
    assert [c.code for c in again.cells] == [c.code for c in generated.cells]
    assert all(
        shapely.equals_exact(a.geometry, b.geometry, 0)
        for a, b in zip(again.cells, generated.cells, strict=True)
    )
    assert again.lattice == generated.lattice


def test_voronoi_split_partitions_the_district():
    pieces = split_into_territories(DISTRICT, 3)
    assert len(pieces) == 3
    assert shapely.area(shapely.symmetric_difference(shapely.union_all(pieces), DISTRICT)) < 1e-14
    assert sum(shapely.area(p) for p in pieces) == pytest.approx(DISTRICT.area, rel=1e-12)
    assert [p.wkb for p in split_into_territories(DISTRICT, 3)] == [p.wkb for p in pieces]
    grid = generate_grid(
        DISTRICT, [TerritoryInput(i, f"{i:03d}", f"片区{i}") for i in (1, 2, 3)], county_code="150402"
    )
    assert validate(grid.validation_inputs(), boundary=DISTRICT).ok


def test_overlapping_and_short_territories_are_normalised():
    # West reaches 100 m into east, and neither covers the district's far east strip.
    west = metres_box(-10, -10, 800, 1200)
    east = metres_box(700, -10, 1400, 1200)
    grid = generate_grid(
        DISTRICT,
        [TerritoryInput("w", "001", "西", west), TerritoryInput("e", "002", "东", east)],
        county_code="150402",
    )
    assert any("重叠" in note for note in grid.notes) and any("不在任何镇街" in note for note in grid.notes)
    assert validate(grid.validation_inputs(), boundary=DISTRICT).ok


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"county_code": "1504"}, "6 位数字"),
        ({"county_code": "150402", "territories": []}, "至少需要一个镇街"),
        (
            {
                "county_code": "150402",
                "territories": [TerritoryInput(1, "001", "a"), TerritoryInput(2, "001", "b")],
            },
            "互不相同",
        ),
        (
            {
                "county_code": "150402",
                "territories": [TerritoryInput(1, "001", "远", metres_box(5000, 5000, 6000, 6000))],
            },
            "没有重叠",
        ),
    ],
)
def test_bad_input_is_refused_clearly(kwargs, message):
    kwargs.setdefault("territories", territories())
    with pytest.raises(GeneratorError, match=message):
        generate_grid(DISTRICT, **kwargs)
