"""Importing staff: roles by label or code, units must exist, one login account per person."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from chengguan.core.tabular import ImportReport
from chengguan.org import selectors, services
from chengguan.org.models import Staff, StaffRole
from chengguan.org.rules import STAFF_COLUMNS
from chengguan.org.tests.samples import STAFF, gbk_csv, staff_file, with_cell

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[int, dict, dict, int]:
    stamps = dict(Staff.objects.values_list("code", "updated_at"))
    return Staff.objects.count(), selectors.staff_records(), stamps, get_user_model().objects.count()


def where(report: ImportReport) -> set[tuple[int, str]]:
    return {(error.row, error.field) for error in report.errors}


def staff_rows(code: str, column: str, value: str) -> list[list[str]]:
    return with_cell(STAFF, code, column, value, columns=STAFF_COLUMNS)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_staff(org_chart, django_user_model, fmt):
    django_user_model.objects.create_user(username="chenjing")

    report = services.staff_import_file(staff_file(fmt), filename=f"staff.{fmt}")

    assert report.ok, report.errors
    assert report.created == len(STAFF)
    zhang = Staff.objects.get(code="XT0001")
    assert (zhang.name, zhang.role, zhang.unit.code) == ("张伟", StaffRole.INSPECTOR, "HS-ZD-XT")
    assert zhang.phone == "13904761234"
    # Spaces and the country code are dropped, so a number is stored one way only.
    assert Staff.objects.get(code="XT0002").phone == "13904761235"
    assert Staff.objects.get(code="XT0003").phone == "13904761236"
    assert Staff.objects.get(code="XT0003").active is False
    assert Staff.objects.get(code="HMZ001").role == StaffRole.OFFICER
    chen = Staff.objects.get(code="JU0001")
    assert chen.user is not None and chen.user.username == "chenjing"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_staff_export_reimports_unchanged(staffed, fmt):
    before = snapshot()

    report = services.staff_import_file(selectors.staff_table(fmt), filename=f"staff.{fmt}")

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(STAFF))
    assert snapshot() == before


MALFORMED = {
    "unknown role": (staff_rows("XT0002", "岗位", "保洁员"), {(3, "岗位")}, "未知的岗位「保洁员」"),
    "unknown unit": (
        staff_rows("XT0002", "所属单位编码", "HS-NOPE"),
        {(3, "所属单位编码")},
        "所属单位「HS-NOPE」不存在",
    ),
    "bad phone": (staff_rows("XT0002", "手机号", "0476-8351201"), {(3, "手机号")}, "应为 11 位手机号码"),
    "bad active": (staff_rows("XT0002", "在岗", "休假"), {(3, "在岗")}, "「休假」不是有效的是/否值"),
    "duplicate code": (
        [*STAFF, STAFF[0]],
        {(len(STAFF) + 2, "工号")},
        "工号「XT0001」在本文件中重复（第 2 行已出现）",
    ),
    "unknown account": (
        staff_rows("JU0002", "登录账号", "nobody"),
        {(7, "登录账号")},
        "登录账号「nobody」不存在",
    ),
    "shared account": (
        staff_rows("JU0002", "登录账号", "chenjing"),
        {(6, "登录账号"), (7, "登录账号")},
        "登录账号「chenjing」同时分配给了工号",
    ),
    "missing name": (staff_rows("JU0002", "姓名", ""), {(7, "姓名")}, "必填"),
}


@pytest.mark.parametrize("case", MALFORMED.keys())
def test_malformed_staff_file_changes_nothing(staffed, case):
    rows, places, text = MALFORMED[case]
    before = snapshot()

    report = services.staff_import_file(staff_file(rows=rows), filename="staff.csv")

    assert where(report) == places, report.errors
    assert all(text in error.message for error in report.errors)
    assert snapshot() == before


def test_missing_required_staff_column(org_chart):
    from chengguan.core.tabular import write_table

    data = write_table(["工号", "姓名", "岗位"], [["XT0001", "张伟", "巡查员"]], "csv")

    report = services.staff_import_file(data, filename="staff.csv")

    assert where(report) == {(1, "")}
    assert "缺少必需的列：所属单位编码" in report.errors[0].message
    assert Staff.objects.count() == 0


def test_gbk_staff_file(org_chart, django_user_model):
    django_user_model.objects.create_user(username="chenjing")
    data = gbk_csv(STAFF_COLUMNS, STAFF)

    assert not services.staff_import_file(data, filename="staff.csv").ok
    assert Staff.objects.count() == 0
    report = services.staff_import_file(data, filename="staff.csv", encoding="gbk")

    assert report.ok, report.errors
    assert Staff.objects.get(code="XT0003").name == "王强"


def test_accounts_are_created_on_request_without_a_usable_password(org_chart, django_user_model):
    refused = services.staff_import_file(staff_file(), filename="staff.csv")
    assert where(refused) == {(6, "登录账号")}

    report = services.staff_import_file(staff_file(), filename="staff.csv", create_users=True)

    assert report.ok, report.errors
    account = django_user_model.objects.get(username="chenjing")
    assert not account.has_usable_password()
    assert Staff.objects.get(code="JU0001").user == account


def test_an_account_can_move_from_one_person_to_another(staffed):
    rows = staff_rows("JU0001", "登录账号", "")
    rows = with_cell(rows, "JU0002", "登录账号", "chenjing", columns=STAFF_COLUMNS)

    report = services.staff_import_file(staff_file(rows=rows), filename="staff.csv")

    assert report.ok, report.errors
    assert report.updated == 2
    assert Staff.objects.get(code="JU0001").user is None
    assert Staff.objects.get(code="JU0002").user is not None


def test_staff_move_to_another_unit(staffed):
    report = services.staff_import_file(
        staff_file(rows=staff_rows("XT0001", "所属单位编码", "HS-JD-YJ")), filename="staff.csv"
    )

    assert (report.created, report.updated, report.unchanged) == (0, 1, len(STAFF) - 1)
    assert Staff.objects.get(code="XT0001").unit.code == "HS-JD-YJ"
