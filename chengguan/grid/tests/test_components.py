"""The component inventory (部件普查): 17-digit identifiers, import from points, counts per grid."""

from __future__ import annotations

import io
import json

import pytest
import shapely
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from chengguan.catalog.models import Category, CategoryKind
from chengguan.grid import selectors
from chengguan.grid.components import ComponentFields
from chengguan.grid.geometry import metres_per_degree
from chengguan.grid.models import Component, ComponentState, GridCell
from chengguan.grid.readers import GridFileError
from chengguan.grid.services import import_components, import_grid
from chengguan.grid.tests.conftest import LAT0, LON0, two_by_two, write_geojson
from chengguan.grid.tests.test_services import sources
from chengguan.org.models import OrgUnit, UnitKind

pytestmark = pytest.mark.django_db
MLON, MLAT = metres_per_degree(LAT0)
FIELDS = ComponentFields(category="类别", code="标识码", state="状态", owner="权属", name="名称")


def at(x: float, y: float) -> shapely.Point:
    return shapely.Point(LON0 + x / MLON, LAT0 + y / MLAT)


@pytest.fixture
def grid(tmp_path):
    for code, name in [("01001", "供水井盖"), ("01104", "路灯")]:
        Category.objects.create(
            kind=CategoryKind.COMPONENT, code=code, major_code=code[:2], major_name="市政公用设施", name=name
        )
    Category.objects.create(
        kind=CategoryKind.MATTER, code="06001", major_code="06", major_name="市容环境", name="暴露垃圾"
    )
    OrgUnit.objects.create(code="W01", name="自来水公司", kind=UnitKind.UTILITY)
    assert import_grid(sources(tmp_path), name="两街四社区").activated
    return tmp_path


def points_file(path, rows):
    return write_geojson(path, [(at(x, y), props) for (x, y), props in rows])


GOOD = [
    (
        (50, 50),
        {
            "标识码": "15040201001000001",
            "类别": "01001",
            "状态": "完好",
            "权属": "自来水公司",
            "名称": "井盖A",
        },
    ),
    ((60, 70), {"标识码": "15040201001000002", "类别": "01001", "状态": "破损", "权属": "W01", "名称": ""}),
    ((350, 350), {"标识码": "15040201104000001", "类别": "01104", "状态": "", "权属": "", "名称": "路灯1"}),
]


def test_import_locates_and_counts_components(grid):
    outcome = import_components(points_file(grid / "c.geojson", GOOD), FIELDS)
    assert outcome.ok, outcome.errors
    assert (outcome.created, outcome.updated) == (3, 0)
    cover = Component.objects.get(code="15040201001000001")
    assert (
        cover.unit_grid == "150402000001"
        and cover.owner.name == "自来水公司"
        and cover.state == ComponentState.INTACT
    )
    assert Component.objects.get(code="15040201001000002").state == ComponentState.DAMAGED
    community = GridCell.objects.get(code="150402000001")
    assert selectors.component_counts(community) == [("01001", "供水井盖", 2)]
    subdistrict = GridCell.objects.get(code="150402001")
    assert selectors.component_counts(subdistrict) == [("01104", "路灯", 1)]
    assert selectors.component_by_code("15040201104000001").name == "路灯1"
    # A second survey updates the state of what is already known.
    again = [((50, 50), {**GOOD[0][1], "状态": "丢失"})]
    outcome = import_components(points_file(grid / "c2.geojson", again), FIELDS)
    assert (outcome.created, outcome.updated) == (0, 1)
    assert Component.objects.get(code="15040201001000001").state == ComponentState.LOST


def test_every_bad_feature_is_named_and_nothing_written(grid):
    bad = [
        ((50, 50), {"标识码": "37040201001000001", "类别": "01001", "状态": "完好", "权属": "", "名称": ""}),
        ((50, 60), {"标识码": "15040201104000009", "类别": "01001", "状态": "完好", "权属": "", "名称": ""}),
        ((50, 70), {"标识码": "15040206001000001", "类别": "06001", "状态": "完好", "权属": "", "名称": ""}),
        (
            (50, 80),
            {"标识码": "1504020100100001", "类别": "01001", "状态": "坏了", "权属": "无名公司", "名称": ""},
        ),
        ((60, 90), {"标识码": "15040201001000005", "类别": "01001", "状态": "", "权属": "", "名称": ""}),
        ((70, 90), {"标识码": "15040201001000005", "类别": "01001", "状态": "", "权属": "", "名称": ""}),
        ((5000, 5000), {"标识码": "15040201001000007", "类别": "01001", "状态": "", "权属": "", "名称": ""}),
    ]
    outcome = import_components(points_file(grid / "bad.geojson", bad), FIELDS)
    text = "\n".join(outcome.errors)
    assert "第 1 个要素「标识码」：部件标识码 37040201001000001 的前 6 位应为本区县代码 150402" in text
    assert "第 2 个要素「标识码」：部件标识码 15040201104000009 的第 7–11 位应为类别码 01001" in text
    assert "第 3 个要素「类别」：部件类别「06001」不在部件目录中" in text  # a matter, not a component
    assert "第 4 个要素「标识码」：部件标识码「1504020100100001」应为 17 位数字" in text
    assert "第 4 个要素「状态」" in text and "第 4 个要素「权属」" in text
    assert "第 5 个要素「标识码」：部件标识码 15040201001000005 在文件中重复" in text
    assert "第 7 个要素：位置" in text and "不在辖区网格内" in text
    assert "未做任何修改" in outcome.summary()
    assert not Component.objects.exists()


def test_identifiers_are_numbered_per_category(grid):
    import_components(points_file(grid / "a.geojson", GOOD[:1]), FIELDS)
    numbered = ComponentFields(category="类别")
    outcome = import_components(points_file(grid / "b.geojson", [GOOD[1], GOOD[2]]), numbered)
    assert outcome.ok, outcome.errors
    assert sorted(Component.objects.values_list("code", flat=True)) == [
        "15040201001000001",
        "15040201001000002",
        "15040201104000001",
    ]


def test_new_grid_version_relocates_components(grid):
    import_components(points_file(grid / "c.geojson", GOOD), FIELDS)
    renumbered = [(g, {**p, "code": p["code"].replace("000", "900", 1)}) for g, p in two_by_two()]
    (grid / "v2").mkdir()
    outcome = import_grid(sources(grid / "v2", renumbered), name="社区重新编码")
    assert outcome.activated, outcome.report.format_text()
    assert Component.objects.get(code="15040201001000001").unit_grid == "150402900001"


def test_polygons_are_not_components(grid):
    with pytest.raises(GridFileError, match="部件必须是点"):
        import_components(write_geojson(grid / "p.geojson", two_by_two()), FIELDS)


def test_command_map_points_and_panel(grid, admin_client):
    path = points_file(grid / "c.geojson", GOOD)
    out = io.StringIO()
    call_command(
        "grid_components",
        str(path),
        *("--category-field", "类别", "--code-field", "标识码", "--state-field", "状态"),
        stdout=out,
    )
    assert "新增部件 3 个" in out.getvalue()
    with pytest.raises(CommandError, match="没有字段「编号」"):
        call_command("grid_components", str(path), "--category-field", "编号", stdout=io.StringIO())
    west, south, east, north = at(0, 0).x, at(0, 0).y, at(100, 100).x, at(100, 100).y
    data = admin_client.get(reverse("grid:components"), {"bbox": f"{west},{south},{east},{north}"}).json()
    assert sorted(f["properties"]["code"] for f in data["features"]) == [
        "15040201001000001",
        "15040201001000002",
    ]
    assert [f["properties"]["broken"] for f in data["features"]] == [False, True]
    json.dumps(data)
    cell = GridCell.objects.get(code="150402000001")
    body = admin_client.get(reverse("grid:cell", args=[cell.pk])).content.decode()
    assert "部件（2）" in body and "供水井盖（01001）：2" in body
