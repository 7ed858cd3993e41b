"""People in grids: assigning inspectors and assistants from a table, and the coverage report."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from chengguan.grid.models import DutyRole, GridCell, GridDuty
from chengguan.grid.selectors import active_layer, duty_coverage
from chengguan.grid.services import import_duties, import_grid
from chengguan.grid.tests.test_services import sources
from chengguan.org.models import OrgUnit, Staff, StaffRole, UnitKind

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tmp_path):
    assert import_grid(sources(tmp_path), name="两街四社区").activated
    bureau = OrgUnit.objects.create(code="B01", name="城管局", kind=UnitKind.BUREAU)
    OrgUnit.objects.create(code="P01", name="公安分局", kind=UnitKind.DEPARTMENT)
    made = {}
    for code, name, role in [
        ("X1", "赵巡查", StaffRole.INSPECTOR),
        ("X2", "钱巡查", StaffRole.INSPECTOR),
        ("A1", "孙协管", StaffRole.ASSISTANT),
        ("A2", "李协管", StaffRole.ASSISTANT),
        ("D1", "周派遣", StaffRole.DISPATCHER),
    ]:
        made[code] = Staff.objects.create(code=code, name=name, role=role, unit=bureau)
    return made


def table(*rows: str) -> bytes:
    return ("网格编码,工号,职责,部门\n" + "\n".join(rows) + "\n").encode()


def test_assign_from_a_table_and_report_coverage(people):
    report = import_duties(
        table(
            "150402000,X1,巡查员,",  # a whole subdistrict: both its communities are covered
            "150402001001,X2,巡查员,",  # one community of the other subdistrict
            "150402001001,A1,协管员,",
            "150402001001,A1,协管员,",  # repeated row: one duty
            "150402001002,D1,部门联络员,P01",
        ),
        filename="duties.csv",
    )
    assert report.ok, report.errors
    assert report.created == 4 and report.unchanged == 1
    layer = active_layer()
    result = duty_coverage(layer, level=2)
    assert [c["code"] for c in result["uncovered"]] == ["150402001002"]
    assert result["partly"] == []
    assert [s.code for s in result["idle_staff"]] == ["A2"]  # the dispatcher is not patrol staff
    by_subdistrict = duty_coverage(layer, level=1)
    assert [c["code"] for c in by_subdistrict["partly"]] == ["150402001"]  # only one community has someone
    assert by_subdistrict["uncovered"] == []


def test_one_bad_row_writes_nothing(people):
    report = import_duties(
        table(
            "150402000,X1,巡查员,",
            "999,X1,巡查员,",
            "150402000,NOBODY,巡查员,",
            "150402000,X2,队长,",
            "150402000,X2,部门联络员,",
        ),
        filename="duties.csv",
    )
    messages = [str(e) for e in report.errors]
    assert any("第 3 行「网格编码」" in m and "999" in m for m in messages)
    assert any("第 4 行「工号」" in m for m in messages)
    assert any("第 5 行「职责」" in m and "队长" in m for m in messages)
    assert any("第 6 行「部门」" in m for m in messages)
    assert GridDuty.objects.count() == 0


def test_commands_and_page(people, tmp_path, admin_client):
    path = tmp_path / "duties.csv"
    path.write_bytes(table("150402000,X1,巡查员,"))
    out = io.StringIO()
    call_command("grid_assign", str(path), stdout=out)
    assert "新增 1 条" in out.getvalue()
    out = io.StringIO()
    call_command("grid_coverage", stdout=out)
    text = out.getvalue()
    assert "责任网格共 4 个：没有巡查员的 2 个" in text and "李协管" in text and "社区10" in text
    bad = tmp_path / "bad.csv"
    bad.write_bytes(table("nope,X1,巡查员,"))
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("grid_assign", str(bad), stdout=io.StringIO(), stderr=io.StringIO())
    page = admin_client.get(reverse("grid:coverage"), {"level": 2, "role": DutyRole.INSPECTOR})
    body = page.content.decode()
    assert "没有巡查员的 2 个" in body and "孙协管" in body
    assert GridCell.objects.filter(duties__staff__code="X1").count() == 1
