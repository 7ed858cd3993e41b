from __future__ import annotations

import json

import numpy as np
import pytest
import shapely

from chengguan.grid import selectors
from chengguan.grid.gcj02 import wgs84_to_gcj02
from chengguan.grid.geometry import from_wkb
from chengguan.grid.importing import FieldMap
from chengguan.grid.models import DutyRole, GridCell, GridDuty, GridLayer, LayerStatus
from chengguan.grid.readers import GridFileError
from chengguan.grid.services import GridServiceError, LevelSource, activate_layer, assign_duty, import_grid
from chengguan.grid.tests.conftest import (
    metres_box,
    metres_polygon,
    shared_file,
    streets,
    two_by_two,
    write_geojson,
    write_with_gdal,
)
from chengguan.org.models import OrgUnit, Staff, StaffRole, UnitKind

pytestmark = pytest.mark.django_db


def sources(tmp_path, communities=None, street_features=None):
    s = write_geojson(tmp_path / "streets.geojson", street_features or streets())
    c = write_geojson(tmp_path / "communities.geojson", communities or two_by_two())
    return [
        LevelSource(1, s, FieldMap(code="code", name="name")),
        LevelSource(2, c, FieldMap(code="code", name="name", parent="street")),
    ]


def state() -> tuple:
    """Everything an import could change, to prove a refused one changed nothing."""
    return (
        list(GridLayer.objects.order_by("pk").values_list("pk", "status")),
        GridCell.objects.count(),
        GridDuty.objects.count(),
    )


@pytest.fixture
def subdistrict():
    return OrgUnit.objects.create(code="150402000", name="街道0", kind=UnitKind.SUBDISTRICT)


@pytest.fixture
def active(tmp_path, subdistrict):
    outcome = import_grid(sources(tmp_path), name="第一版")
    assert outcome.activated, outcome.report.format_text()
    return outcome.layer


def test_clean_import_is_activated_with_parents_areas_and_territories(active, subdistrict):
    assert active.status == LayerStatus.ACTIVE and active.error_count == 0
    cells = {c.code: c for c in GridCell.objects.filter(layer=active)}
    assert len(cells) == 6
    community = cells["150402000001"]
    assert community.parent == cells["150402000"] and community.level == 2
    assert community.territory == subdistrict  # inherited from its subdistrict, matched by name
    assert cells["150402001"].territory is None
    assert community.area_m2 == pytest.approx(40_000, rel=0.005)
    geom = from_wkb(community.geometry)
    assert (community.min_lon, community.min_lat, community.max_lon, community.max_lat) == pytest.approx(
        geom.bounds
    )
    assert geom.contains(shapely.Point(community.label_lon, community.label_lat))
    location = selectors.locate(community.label_lon, community.label_lat)
    assert location.unit is None and location.responsibility.code == "150402000001"
    assert location.management.code == "150402000" and location.territory_id == subdistrict.pk


def test_import_with_gap_overlap_and_invalid_polygon_keeps_the_active_grid(tmp_path, active):
    before = state()
    locator_before = selectors.get_locator()
    broken = two_by_two()
    holed = shapely.difference(metres_box(200, 200, 400, 400), metres_box(250, 250, 260, 260))
    broken[3] = (holed, broken[3][1])  # gap: a 10 m × 10 m hole no community covers
    broken[2] = (metres_box(190, 0, 400, 200), broken[2][1])  # overlap: 10 m into the west
    bowtie = metres_polygon([(0, 200), (200, 400), (200, 200), (0, 400), (0, 200)])
    broken[1] = (bowtie, broken[1][1])  # invalid: self-intersecting
    outcome = import_grid(sources(tmp_path, broken), name="坏的一版")
    report = outcome.report
    kinds = {issue.kind for issue in report.errors}
    assert {"gap", "overlap", "invalid_geometry"} <= kinds
    assert [(i.cells, round(i.area_m2)) for i in report.of_kind("gap")] == [(["150402001002"], 100)]
    assert any(sorted(i.cells) == ["150402000001", "150402001001"] for i in report.of_kind("overlap"))
    assert [i.cells for i in report.of_kind("invalid_geometry")] == [["150402000002"]]
    assert not outcome.activated and outcome.layer.status == LayerStatus.DRAFT
    assert "未启用" in outcome.message() and "--accept-report" in outcome.message()
    # The active grid is the one it was; the draft is kept for review with its report.
    assert GridLayer.objects.get(status=LayerStatus.ACTIVE) == active
    after = state()
    assert after[0][:-1] == before[0] and after[0][-1] == (outcome.layer.pk, LayerStatus.DRAFT)
    assert selectors.get_locator() is locator_before
    stored = GridLayer.objects.get(pk=outcome.layer.pk)
    assert stored.error_count == len(report.errors) and stored.report["issues"]


def test_refused_activation_changes_nothing_and_acceptance_switches(tmp_path, active):
    broken = two_by_two()
    broken[0] = (metres_box(0, 0, 200, 150), broken[0][1])
    draft = import_grid(sources(tmp_path, broken), name="有缝隙").layer
    before = state()
    with pytest.raises(GridServiceError, match="--accept-report"):
        activate_layer(draft)
    assert state() == before
    activate_layer(draft, accept_report=True)
    draft.refresh_from_db()
    active.refresh_from_db()
    assert draft.status == LayerStatus.ACTIVE and draft.report_accepted
    assert active.status == LayerStatus.RETIRED and active.retired_at is not None
    assert selectors.get_locator().version == (draft.pk, draft.revision, draft.activated_at)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"type": "FeatureCollection", "features": [', "无法读取文件"),
        ('{"type": "FeatureCollection", "features": []}', "没有任何要素"),
    ],
)
def test_bad_file_changes_nothing(tmp_path, active, content, message):
    before = state()
    bad = sources(tmp_path)
    bad[1].path.write_text(content, encoding="utf-8")
    with pytest.raises(GridFileError, match=message):
        import_grid(bad, name="坏文件")
    assert state() == before


def test_missing_field_is_named(tmp_path, active):
    bad = sources(tmp_path)
    wrong = [LevelSource(1, bad[0].path, FieldMap(code="编码", name="name"))]
    before = state()
    with pytest.raises(GridFileError, match=r"没有字段「编码」.*code、name"):
        import_grid(wrong, name="x")
    assert state() == before


def test_dry_run_writes_nothing(tmp_path, active):
    before = state()
    outcome = import_grid(sources(tmp_path), name="试运行", dry_run=True)
    assert outcome.layer is None and outcome.report.ok
    assert state() == before


def test_duties_follow_codes_to_the_next_version(tmp_path, active):
    unit = OrgUnit.objects.create(code="B01", name="城管局", kind=UnitKind.BUREAU)
    police = OrgUnit.objects.create(code="P01", name="公安分局", kind=UnitKind.DEPARTMENT)
    inspector = Staff.objects.create(code="S1", name="王巡查", role=StaffRole.INSPECTOR, unit=unit)
    officer = Staff.objects.create(code="S2", name="李警官", role=StaffRole.OFFICER, unit=police)
    cell = GridCell.objects.get(layer=active, code="150402000001")
    assign_duty(cell, inspector, DutyRole.INSPECTOR)
    assign_duty(cell, inspector, DutyRole.INSPECTOR)  # idempotent
    assign_duty(cell, officer, DutyRole.DEPARTMENT_LIAISON, department=police)
    with pytest.raises(GridServiceError, match="入格部门"):
        assign_duty(cell, officer, DutyRole.DEPARTMENT_LIAISON)
    inspector.active = False
    inspector.save()
    with pytest.raises(GridServiceError, match="不在岗"):
        assign_duty(cell, inspector, DutyRole.GRID_LEADER)
    (tmp_path / "v2").mkdir()
    second = import_grid(sources(tmp_path / "v2"), name="第二版")
    assert second.activated
    moved = GridDuty.objects.filter(cell__layer=second.layer).order_by("role")
    assert [(d.cell.code, d.staff.code, d.role, d.department_id) for d in moved] == [
        ("150402000001", "S2", DutyRole.DEPARTMENT_LIAISON, police.pk),
        ("150402000001", "S1", DutyRole.INSPECTOR, None),
    ]
    assert GridDuty.objects.filter(cell__layer=active).count() == 2  # history stays


def test_spatial_parents_and_generated_codes(tmp_path):
    s = write_geojson(tmp_path / "s.geojson", streets())
    c = write_geojson(tmp_path / "c.geojson", [(g, {"name": p["name"]}) for g, p in two_by_two()])
    outcome = import_grid(
        [LevelSource(1, s, FieldMap(code="code", name="name")), LevelSource(2, c, FieldMap(name="name"))],
        name="按位置",
    )
    assert outcome.activated
    parents = dict(GridCell.objects.filter(level=2).values_list("name", "parent__code"))
    assert parents == {
        "社区00": "150402000",
        "社区01": "150402000",
        "社区10": "150402001",
        "社区11": "150402001",
    }
    codes = sorted(GridCell.objects.filter(level=2).values_list("code", flat=True))
    assert codes == ["150402000001", "150402000002", "150402001001", "150402001002"]
    assert any("自动生成" in note for note in outcome.notes)


def test_geopackage_layers_and_gcj02(tmp_path):
    gpkg = tmp_path / "grid.gpkg"
    to_gcj = lambda g: shapely.transform(g, lambda xy: np.column_stack(wgs84_to_gcj02(xy[:, 0], xy[:, 1])))  # noqa: E731
    write_with_gdal(gpkg, [(to_gcj(g), p) for g, p in streets()], driver="GPKG", layer="streets")
    write_with_gdal(gpkg, [(to_gcj(g), p) for g, p in two_by_two()], driver="GPKG", layer="communities")
    outcome = import_grid(
        [
            LevelSource(1, gpkg, FieldMap(code="code", name="name"), layer="streets"),
            LevelSource(2, gpkg, FieldMap(code="code", name="name", parent="street"), layer="communities"),
        ],
        name="GCJ",
        gcj02=True,
    )
    assert outcome.activated, outcome.report.format_text()
    stored = from_wkb(GridCell.objects.get(code="150402000001").geometry)
    assert shapely.hausdorff_distance(stored, two_by_two()[0][0]) < 1e-8


def test_viewport_query_and_geojson(active):
    cells = list(selectors.cells_in_view(active, 2, *metres_box(0, 0, 150, 150).bounds))
    assert [c.code for c in cells] == ["150402000001"]
    data = selectors.cells_geojson(cells)
    assert data["features"][0]["properties"]["code"] == "150402000001"
    assert data["features"][0]["geometry"]["type"] == "Polygon"
    json.dumps(data)


def test_real_sip_communities_import_under_their_subdistricts():
    streets_path = shared_file("boundaries", "sip_streets_wgs84.geojson")
    communities_path = shared_file("boundaries", "sip_communities_wgs84.geojson")
    outcome = import_grid(
        [
            LevelSource(1, streets_path, FieldMap(code="code9", name="name")),
            LevelSource(2, communities_path, FieldMap(code="code12", name="name", parent="street")),
        ],
        name="苏州工业园区社区",
    )
    layer = outcome.layer
    assert GridCell.objects.filter(layer=layer, level=1).count() == 5
    assert GridCell.objects.filter(layer=layer, level=2, parent__isnull=False).count() == 176
    report = outcome.report
    overlaps = {frozenset(i.cells): i.area_m2 for i in report.of_kind("overlap")}
    assert overlaps[frozenset({"320506012022", "320506012023"})] == pytest.approx(87, abs=1)  # 玲珑湾 / 中海
    gaps = report.of_kind("gap")
    assert any("蔺和社区" in g.message and g.area_m2 == pytest.approx(1.2, abs=0.1) for g in gaps)
    assert len(report.of_kind("duplicate_code")) == 4 and len(report.of_kind("missing_code")) == 5
    assert any("亭南社区" in i.message for i in report.of_kind("code_prefix"))
    assert len(report.of_kind("sliver")) > 20  # the many sub-m² slivers of the reprojected data
    assert not outcome.activated and layer.status == LayerStatus.DRAFT
