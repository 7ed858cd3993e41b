from __future__ import annotations

import pytest
import shapely

from chengguan.grid.geometry import metres_per_degree
from chengguan.grid.tests.conftest import LAT0, LON0, metres_box, metres_polygon
from chengguan.grid.validation import CellInput, Report, Severity, Tolerances, validate

MLON, MLAT = metres_per_degree(LAT0)


def grid(communities: dict[str, tuple[object, int]] | None = None) -> list[CellInput]:
    """Two subdistricts (west, east) of 200 m × 400 m, each with two 200 m communities."""
    cells = [
        CellInput(1, "150402001", "西街道", metres_box(0, 0, 200, 400)),
        CellInput(1, "150402002", "东街道", metres_box(200, 0, 400, 400)),
    ]
    default = {
        "150402001001": (metres_box(0, 0, 200, 200), 0),
        "150402001002": (metres_box(0, 200, 200, 400), 0),
        "150402002001": (metres_box(200, 0, 400, 200), 1),
        "150402002002": (metres_box(200, 200, 400, 400), 1),
    }
    default.update(communities or {})
    for code, (geom, parent) in default.items():
        cells.append(CellInput(2, code, f"社区{code[-4:]}", geom, parent))
    return cells


BOUNDARY = metres_box(0, 0, 400, 400)


def _place_inside(issue, region_m) -> bool:
    x = (issue.lon - LON0) * MLON
    y = (issue.lat - LAT0) * MLAT
    return shapely.covers(region_m.buffer(0.5), shapely.Point(x, y))


def test_clean_grid_passes():
    report = validate(grid(), boundary=BOUNDARY)
    assert report.ok and report.issues == []
    assert report.levels[1]["count"] == 2 and report.levels[2]["count"] == 4
    assert report.levels[2]["area_m2"] == pytest.approx(160_000, rel=1e-3)
    assert "校验通过" in report.format_text()


def test_gap_is_reported_with_area_place_and_neighbours():
    # The north-west community stops 10 m short of the west subdistrict's northern edge.
    report = validate(grid({"150402001002": (metres_box(0, 200, 200, 390), 0)}), boundary=BOUNDARY)
    gaps = report.of_kind("gap")
    assert len(gaps) == 1 and gaps[0].severity == Severity.ERROR
    assert gaps[0].level == 2
    assert gaps[0].area_m2 == pytest.approx(2000, rel=0.01)
    assert _place_inside(gaps[0], shapely.box(0, 390, 200, 400))
    assert "150402001002" in gaps[0].cells
    assert "缝隙 2,000" in gaps[0].message or "缝隙 1,99" in gaps[0].message
    # Already a gap: not reported a second time as the parent's uncovered part.
    assert report.of_kind("parent_not_covered") == []


def test_enclosed_hole_is_a_gap_without_boundary():
    holed = shapely.difference(metres_box(0, 0, 200, 200), metres_box(50, 50, 60, 60))
    report = validate(grid({"150402001001": (holed, 0)}))
    gaps = report.of_kind("gap")
    assert len(gaps) == 1 and gaps[0].area_m2 == pytest.approx(100, rel=0.01)
    assert _place_inside(gaps[0], shapely.box(50, 50, 60, 60))


def test_overlap_names_the_pair_and_the_amount():
    # The south-east community reaches 5 m into its western neighbour (another subdistrict).
    report = validate(grid({"150402002001": (metres_box(195, 0, 400, 200), 1)}), boundary=BOUNDARY)
    overlaps = report.of_kind("overlap")
    assert len(overlaps) == 1
    assert sorted(overlaps[0].cells) == ["150402001001", "150402002001"]
    assert overlaps[0].area_m2 == pytest.approx(1000, rel=0.01)
    assert _place_inside(overlaps[0], shapely.box(195, 0, 200, 200))
    outside = report.of_kind("outside_parent")
    assert len(outside) == 1 and outside[0].cells == ["150402002001", "150402002"]
    assert outside[0].area_m2 == pytest.approx(1000, rel=0.01)
    assert not report.ok


def test_invalid_polygon_is_named_with_its_place():
    bowtie = metres_polygon([(0, 0), (200, 200), (200, 0), (0, 200), (0, 0)])
    report = validate(grid({"150402001001": (bowtie, 0)}))
    invalid = report.of_kind("invalid_geometry")
    assert len(invalid) == 1 and invalid[0].cells == ["150402001001"]
    assert "自相交" in invalid[0].message
    assert _place_inside(invalid[0], shapely.box(99, 99, 101, 101))  # where the edges cross


def test_child_in_the_wrong_parent():
    # The south-east community is declared under the west subdistrict.
    report = validate(grid({"150402002001": (metres_box(200, 0, 400, 200), 0)}))
    outside = report.of_kind("outside_parent")
    assert [i.cells for i in outside] == [["150402002001", "150402001"]]
    assert outside[0].area_m2 == pytest.approx(40_000, rel=0.01)
    uncovered = report.of_kind("parent_not_covered")
    assert [i.cells for i in uncovered] == [["150402002"]]
    assert "150402002001" in uncovered[0].message  # says who covers the place instead
    assert any(i.kind == "code_prefix" for i in report.warnings)


def test_small_defects_are_slivers_that_do_not_block():
    # 0.4 m² gap: under the 1 m² tolerance.
    report = validate(grid({"150402001002": (metres_box(0, 200, 200, 399.998), 0)}), boundary=BOUNDARY)
    assert report.ok
    slivers = report.of_kind("sliver")
    assert slivers and all(s.severity == Severity.WARNING for s in slivers)
    assert validate(
        grid({"150402001002": (metres_box(0, 200, 200, 399.998), 0)}),
        boundary=BOUNDARY,
        tolerances=Tolerances(area_m2=0.1),
    ).of_kind("gap")


def test_thin_cell_part_is_a_sliver():
    thin = shapely.union(metres_box(0, 0, 200, 200), metres_box(0, -0.2, 200, -0.1))  # a 10 cm strip
    report = validate(grid({"150402001001": (thin, 0)}))
    assert any(i.kind == "sliver" and "平均宽度" in i.message for i in report.issues)


def test_codes_and_parents():
    cells = grid()
    cells.append(CellInput(2, "150402001001", "重复社区", metres_box(500, 0, 600, 100), 0))
    cells.append(CellInput(2, "150402009001", "孤儿社区", metres_box(600, 0, 700, 100), None))
    cells.append(CellInput(4, "ABC", "单元", metres_box(0, 0, 10, 10), None))
    report = validate(cells)
    assert [i.cells for i in report.of_kind("duplicate_code")] == [["150402001001"]]
    assert ["150402009001"] in [i.cells for i in report.of_kind("missing_parent")]
    assert [i.cells for i in report.of_kind("code_format")] == [["ABC"]]


def test_report_survives_json_and_reads_well():
    report = validate(grid({"150402002001": (metres_box(195, 0, 400, 200), 1)}), boundary=BOUNDARY)
    again = Report.from_dict(report.to_dict())
    assert [(i.kind, i.cells, i.area_m2) for i in again.issues] == [
        (i.kind, i.cells, i.area_m2) for i in report.issues
    ]
    text = again.format_text()
    assert "【重叠】1 处（错误）" in text and "社区2001" in text and "东经" in text
