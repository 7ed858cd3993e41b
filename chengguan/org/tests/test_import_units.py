"""Importing the org chart: upsert by code, all rows or none, row-level messages."""

from __future__ import annotations

import pytest

from chengguan.core.tabular import ImportReport
from chengguan.org import selectors, services
from chengguan.org.models import OrgUnit, UnitKind
from chengguan.org.rules import UNIT_COLUMNS
from chengguan.org.tests.samples import UNITS, gbk_csv, units_file, with_cell

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[int, dict, dict]:
    """Everything an import could change: rows, their values and their update times."""
    stamps = dict(OrgUnit.objects.values_list("code", "updated_at"))
    return OrgUnit.objects.count(), selectors.unit_records(), stamps


def domain_names(code: str) -> set[str]:
    return set(OrgUnit.objects.get(code=code).domains.values_list("name", flat=True))


def where(report: ImportReport) -> set[tuple[int, str]]:
    return {(error.row, error.field) for error in report.errors}


def message(report: ImportReport, row: int, field: str) -> str:
    return " ".join(e.message for e in report.errors if e.row == row and e.field == field)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_import_builds_the_org_chart(domains, fmt):
    report = services.units_import_file(units_file(fmt), filename=f"units.{fmt}")

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (len(UNITS), 0, 0)
    brigade = OrgUnit.objects.get(code="HS-ZD-XT")
    assert brigade.kind == UnitKind.BRIGADE
    assert brigade.parent is not None and brigade.parent.code == "HS-JU"
    assert brigade.territory is not None and brigade.territory.code == "HS-JD-XT"
    assert (brigade.committee_member, brigade.in_grid, brigade.active) == (False, True, True)
    bureau = OrgUnit.objects.get(code="HS-JU")
    assert bureau.domains.count() == 9
    assert bureau.contact_phone == "0476-8330001转8001"
    assert domain_names("HS-JD-XT") == {"市容环卫", "绿化"}
    assert domain_names("HS-BM-ZJ") == {"房产", "物业"}
    # A domain may be given by its code as well as its name.
    assert domain_names("HS-BM-SJ") == {"市场监管"}
    assert OrgUnit.objects.get(code="HS-GY-SW").active is False
    assert OrgUnit.objects.get(code="HS-CGW").parent is None


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_reimports_unchanged(org_chart, fmt):
    before = snapshot()
    exported = selectors.units_table(fmt)

    report = services.units_import_file(exported, filename=f"export.{fmt}")

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 0, len(UNITS))
    assert snapshot() == before
    assert selectors.units_table("csv") == selectors.units_table("csv")


def test_export_into_empty_database_rebuilds_the_same_chart(org_chart):
    exported = selectors.units_table("xlsx")
    records = selectors.unit_records()
    OrgUnit.objects.update(parent=None, territory=None)
    OrgUnit.objects.all().delete()

    report = services.units_import_file(exported, filename="export.xlsx")

    assert report.ok, report.errors
    assert selectors.unit_records() == records


def test_reimport_updates_only_changed_rows(org_chart):
    rows = with_cell(UNITS, "HS-JD-YJ", "名称", "永巨街道办事处（新址）")
    rows = with_cell(rows, "HS-BM-ZJ", "职能领域", "房产")

    report = services.units_import_file(units_file(rows=rows), filename="units.csv")

    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (0, 2, len(UNITS) - 2)
    assert OrgUnit.objects.get(code="HS-JD-YJ").name == "永巨街道办事处（新址）"
    assert domain_names("HS-BM-ZJ") == {"房产"}


def test_columns_left_out_keep_stored_values(org_chart):
    from chengguan.core.tabular import write_table

    data = write_table(["单位编码", "名称", "类型"], [["HS-JD-XT", "西屯街道办事处", "街道"]], "csv")

    report = services.units_import_file(data, filename="names.csv")

    assert report.ok, report.errors
    assert report.unchanged == 1
    unit = OrgUnit.objects.get(code="HS-JD-XT")
    assert unit.parent is not None and unit.parent.code == "HS-CGW"
    assert unit.domains.count() == 2


def test_dry_run_reports_but_writes_nothing(domains):
    report = services.units_import_file(units_file(), filename="units.csv", dry_run=True)

    assert report.ok
    assert report.created == len(UNITS)
    assert OrgUnit.objects.count() == 0


def _drop_column(column: str) -> bytes:
    from chengguan.core.tabular import write_table

    index = UNIT_COLUMNS.index(column)
    header = [c for c in UNIT_COLUMNS if c != column]
    rows = [[cell for i, cell in enumerate(row) if i != index] for row in UNITS]
    return write_table(header, rows, "csv")


# Each malformed file: what it changes and where the report must point (row 1 is the header,
# the first data row is row 2, so UNITS[i] is on row i + 2).
MALFORMED = {
    "missing column": (lambda: _drop_column("类型"), {(1, "")}, "缺少必需的列：类型"),
    "unknown parent": (
        lambda: units_file(rows=with_cell(UNITS, "HS-JD-YJ", "上级单位编码", "HS-NOPE")),
        {(7, "上级单位编码")},
        "上级单位「HS-NOPE」不存在",
    ),
    "duplicate code": (
        lambda: units_file(rows=[*UNITS, with_cell(UNITS, "HS-JD-YJ", "名称", "重复的永巨")[5]]),
        {(len(UNITS) + 2, "单位编码")},
        "在本文件中重复（第 7 行已出现）",
    ),
    "unknown kind": (
        lambda: units_file(rows=with_cell(UNITS, "HS-BM-ZJ", "类型", "科室")),
        {(10, "类型")},
        "未知的单位类型「科室」",
    ),
    "cycle": (
        lambda: units_file(rows=with_cell(UNITS, "HS-CGW", "上级单位编码", "HS-JU")),
        {(4, "上级单位编码"), (5, "上级单位编码")},
        "上级单位形成循环：HS-CGW → HS-JU → HS-CGW",
    ),
    "self parent": (
        lambda: units_file(rows=with_cell(UNITS, "HS-BM-SJ", "上级单位编码", "HS-BM-SJ")),
        {(11, "上级单位编码")},
        "上级单位形成循环",
    ),
    "brigade without territory": (
        lambda: units_file(rows=with_cell(UNITS, "HS-ZD-XT", "所属镇街编码", "")),
        {(2, "所属镇街编码")},
        "执法中队必须填写所属镇街编码",
    ),
    "territory not a town": (
        lambda: units_file(rows=with_cell(UNITS, "HS-ZD-XT", "所属镇街编码", "HS-BM-ZJ")),
        {(2, "所属镇街编码")},
        "类型是部门，只能填镇或街道",
    ),
    "bad phone": (
        lambda: units_file(rows=with_cell(UNITS, "HS-BM-ZJ", "联系电话", "请拨总机")),
        {(10, "联系电话")},
        "联系电话「请拨总机」格式不正确",
    ),
    "bad boolean": (
        lambda: units_file(rows=with_cell(UNITS, "HS-BM-ZJ", "入格", "也许")),
        {(10, "入格")},
        "「也许」不是有效的是/否值",
    ),
    "unknown domain": (
        lambda: units_file(rows=with_cell(UNITS, "HS-BM-ZJ", "职能领域", "房产、水务")),
        {(10, "职能领域")},
        "未知的职能领域「水务」",
    ),
    "missing name": (
        lambda: units_file(rows=with_cell(UNITS, "HS-BM-ZJ", "名称", "")),
        {(10, "名称")},
        "必填",
    ),
    "too long": (
        lambda: units_file(rows=with_cell(UNITS, "HS-BM-ZJ", "简称", "住" * 31)),
        {(10, "简称")},
        "超过上限 30 个字符",
    ),
}


@pytest.mark.parametrize("case", MALFORMED.keys())
def test_malformed_file_is_reported_row_by_row_and_changes_nothing(org_chart, case):
    build, expected_places, expected_text = MALFORMED[case]
    # New valid rows in the same file must not be written either.
    data = build()
    before = snapshot()

    report = services.units_import_file(data, filename="bad.csv")

    assert not report.ok
    assert where(report) == expected_places, report.errors
    assert all(expected_text in message(report, row, field) for row, field in expected_places)
    assert (report.created, report.updated) == (0, 0)
    assert "数据库未做任何修改" in report.summary()
    assert snapshot() == before


def test_bad_rows_block_the_good_ones_in_an_empty_database(domains):
    rows = [*UNITS, ["HS-NEW", "新单位", "", "部门", "HS-MISSING", "", "", "", "", "", "", ""]]

    report = services.units_import_file(units_file(rows=rows), filename="units.csv")

    assert where(report) == {(len(UNITS) + 2, "上级单位编码")}
    assert OrgUnit.objects.count() == 0


def test_every_error_of_every_row_is_collected(domains):
    rows = with_cell(UNITS, "HS-BM-ZJ", "类型", "科室")
    rows = with_cell(rows, "HS-BM-ZJ", "入格", "也许")
    rows = with_cell(rows, "HS-ZD-XT", "所属镇街编码", "HS-NOPE")
    rows = with_cell(rows, "HS-GY-SW", "联系电话", "无")

    report = services.units_import_file(units_file(rows=rows), filename="units.csv")

    assert where(report) == {(10, "类型"), (10, "入格"), (2, "所属镇街编码"), (12, "联系电话")}
    # Reported in file order, so the clerk can work down the sheet.
    assert [e.row for e in report.errors] == sorted(e.row for e in report.errors)
    assert str(report.errors[0]).startswith("第 2 行「所属镇街编码」：")


def test_changing_a_subdistrict_still_used_as_territory_is_refused(org_chart):
    from chengguan.core.tabular import write_table

    data = write_table(["单位编码", "名称", "类型"], [["HS-JD-XT", "西屯街道办事处", "部门"]], "csv")
    before = snapshot()

    report = services.units_import_file(data, filename="units.csv")

    assert where(report) == {(2, "类型")}
    assert "仍是 1 个单位（HS-ZD-XT）的所属镇街" in report.errors[0].message
    assert snapshot() == before


def test_unknown_column_is_reported(domains):
    from chengguan.core.tabular import write_table

    data = write_table([*UNIT_COLUMNS, "城管委成员单位"], [[*UNITS[3], "是"]], "csv")

    report = services.units_import_file(data, filename="units.csv")

    assert where(report) == {(1, "")}
    assert "无法识别的列：城管委成员单位" in report.errors[0].message
    assert OrgUnit.objects.count() == 0


def test_gbk_file_is_refused_with_a_clear_message_and_read_on_request(org_chart):
    new = ["HS-JD-ZQ", "站前街道办事处", "站前街道", "街道", "HS-CGW", "", "", "是", "是", "", "", "是"]
    rows = [*UNITS, new]
    data = gbk_csv(UNIT_COLUMNS, rows)
    before = snapshot()

    refused = services.units_import_file(data, filename="excel.csv")

    assert where(refused) == {(0, "")}
    assert "不是 UTF-8 编码" in refused.errors[0].message
    assert "--encoding gbk" in refused.errors[0].message
    assert str(refused.errors[0]).startswith("文件：")
    assert snapshot() == before

    accepted = services.units_import_file(data, filename="excel.csv", encoding="gbk")

    assert accepted.ok, accepted.errors
    assert (accepted.created, accepted.updated, accepted.unchanged) == (1, 0, len(UNITS))
    assert OrgUnit.objects.get(code="HS-JD-ZQ").name == "站前街道办事处"


def test_not_a_table_file_is_refused(domains):
    report = services.units_import_file(b"%PDF-1.4", filename="units.pdf")

    assert where(report) == {(0, "")}
    assert "不支持的文件类型" in report.errors[0].message


def test_extra_cells_in_a_row_are_reported(domains):
    data = units_file(rows=UNITS[3:4]) + "多余,,,,,,,,,,,,出界\r\n".encode()

    report = services.units_import_file(data, filename="units.csv")

    assert where(report) == {(3, ""), (3, "名称"), (3, "类型")}


def test_units_referring_to_each_other_are_created(domains):
    # A town whose parent is the brigade working in it: neither can be inserted first.
    rows = [
        ["T1", "某镇", "", "镇", "B1", "", "", "", "", "", "", ""],
        ["B1", "某镇中队", "", "执法中队", "", "T1", "", "", "", "", "", ""],
        ["V1", "某村", "", "村/社区", "T1", "T1", "", "", "", "", "", ""],
    ]

    report = services.units_import_file(units_file(rows=rows), filename="units.csv")

    assert report.ok, report.errors
    parents = dict(OrgUnit.objects.values_list("code", "parent__code"))
    territories = dict(OrgUnit.objects.values_list("code", "territory__code"))
    assert parents == {"T1": "B1", "B1": None, "V1": "T1"}
    assert territories == {"T1": None, "B1": "T1", "V1": "T1"}
