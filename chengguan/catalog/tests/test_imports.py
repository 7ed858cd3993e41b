"""A bureau's own time-limit and powers files: all rows or none, with a row-level report."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from chengguan.catalog import selectors
from chengguan.catalog.models import Category, PowerItem, TimeLimit
from chengguan.catalog.services import LoadReport, catalog_load, powers_import, time_limits_import
from chengguan.core.tabular import write_table

pytestmark = pytest.mark.django_db

LIMIT_HEADER = ["类型", "类别编码", "环节", "区域类别", "处置类型", "时限（工作时）", "来源"]
POWER_HEADER = [
    "事项编码",
    "事项名称",
    "职能领域",
    "法律依据",
    "责任单位类型",
    "生效日期",
    "失效日期",
    "相关类别",
    "备注",
]


def table(header: list[str], rows: list[list[str]], fmt: str = "csv") -> bytes:
    return write_table(header, rows, fmt)


def limits_state() -> list[tuple]:
    return sorted(
        TimeLimit.objects.values_list(
            "id", "category_id", "step", "area_class", "work_kind", "hours", "source", "updated_at"
        )
    )


def powers_state() -> list[tuple]:
    return sorted(
        PowerItem.objects.values_list("id", "code", "effective_from", "legal_basis", "updated_at")
    ) + sorted(PowerItem.categories.through.objects.values_list("poweritem_id", "category_id"))


def garbage() -> Category:
    return Category.objects.get(kind="matter", code="06010")


# --- time limits ------------------------------------------------------------------------------


def test_time_limits_import_creates_updates_and_is_repeatable(loaded: LoadReport) -> None:
    data = table(
        LIMIT_HEADER,
        [
            ["事项", "06010", "处置", "A", "一般性", "3", "区城管委 2024 年 5 号文"],  # update
            ["事项", "06010", "处置", "A类", "特殊性", "2工作日", ""],  # new row, 16 h
            ["", "06001", "核查", "", "", "1.5", ""],  # kind left out: 06001 is only a matter
            ["部件", "01001", "核实", "", "", "0.25", ""],
        ],
    )
    report = time_limits_import(data, filename="本局时限.csv")
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (1, 3, 0)
    assert selectors.time_limit_hours(garbage(), "handle", "A", "ordinary") == Decimal(3)
    assert selectors.time_limit_hours(garbage(), "handle", "A", "special") == Decimal(16)
    special = TimeLimit.objects.get(category=garbage(), step="handle", area_class="A", work_kind="special")
    assert special.source == "本局导入（本局时限.csv）"
    cover = Category.objects.get(kind="component", code="01001")
    assert selectors.time_limit_hours(cover, "verify") == Decimal("0.25")

    again = time_limits_import(data, filename="本局时限.csv")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 4)
    # The loader treats the imported values as the bureau's own and keeps them.
    assert catalog_load().parts["limits"].kept >= 3
    assert selectors.time_limit_hours(garbage(), "handle", "A", "ordinary") == Decimal(3)


def test_time_limits_import_from_xlsx_with_english_headers(loaded: LoadReport) -> None:
    data = table(
        ["kind", "code", "step", "area_class", "work_kind", "hours"],
        [["matter", "06010", "handle", "B", "ordinary", "6"]],
        "xlsx",
    )
    report = time_limits_import(data, filename="limits.xlsx")
    assert report.ok and report.updated == 1
    assert selectors.time_limit_hours(garbage(), "handle", "B", "ordinary") == Decimal(6)


def test_time_limits_import_failure_leaves_the_database_unchanged(loaded: LoadReport) -> None:
    before = limits_state()
    data = table(
        LIMIT_HEADER,
        [
            ["事项", "06010", "处置", "A", "一般性", "3", ""],  # a good row: still not written
            ["事项", "06999", "处置", "", "", "4", ""],
            ["事项", "06010", "处置", "A", "一般性", "0", ""],
            ["", "01001", "处置", "", "", "4", ""],
            ["事项", "06010", "办理", "D", "紧急", "4", ""],
            ["事件", "06011", "核查", "", "", "-2", ""],
            ["事项", "06010", "处置", "A", "一般性", "5", ""],
            ["事项", "0601", "处置", "", "", "5", ""],
        ],
    )
    report = time_limits_import(data, filename="bad.csv")
    assert not report.ok
    messages = [str(error) for error in report.errors]
    expected = [
        "第 3 行「类别编码」：事项 06999 不在类别目录中",
        "第 4 行「时限（工作时）」：时限必须大于 0",
        "第 5 行「类型」：01001 既是部件也是事项",
        "第 6 行「环节」：环节“办理”无效",
        "第 6 行「区域类别」：区域类别“D”无效",
        "第 6 行「处置类型」：处置类型“紧急”无效",
        "第 7 行「时限（工作时）」：“-2”不是时限",
        "第 8 行：与第 2 行是同一类别、环节、区域和处置类型",
        "第 9 行「类别编码」：类别编码“0601”应为 5 位数字",
    ]
    for fragment in expected:
        assert any(message.startswith(fragment) for message in messages), (fragment, messages)
    assert report.summary() == f"发现 {len(report.errors)} 处错误，数据库未做任何修改。"
    assert limits_state() == before


def test_time_limits_import_file_problems(loaded: LoadReport, tmp_path: Path) -> None:
    missing = time_limits_import(table(["类别编码", "时限"], [["06010", "4"]]), filename="x.csv")
    assert [str(e) for e in missing.errors] == ["第 1 行：缺少必需的列：环节"]
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("类别编码,环节,时限\n06010,处置,4\n".encode("gbk"))
    report = time_limits_import(gbk)
    assert not report.ok and "--encoding gbk" in str(report.errors[0])
    assert time_limits_import(gbk, encoding="gbk").ok
    empty = time_limits_import(table(LIMIT_HEADER, []), filename="empty.csv")
    assert "没有数据行" in str(empty.errors[0])


def test_import_time_limits_command(loaded: LoadReport, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(table(LIMIT_HEADER, [["事项", "06010", "处置", "C", "一般性", "12", ""]]))
    out = io.StringIO()
    call_command("import_time_limits", str(good), "--dry-run", stdout=out)
    assert "试运行" in out.getvalue() and "更新 1 条" in out.getvalue()
    assert selectors.time_limit_hours(garbage(), "handle", "C", "ordinary") == Decimal(8)
    call_command("import_time_limits", str(good), stdout=out)
    assert selectors.time_limit_hours(garbage(), "handle", "C", "ordinary") == Decimal(12)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(table(LIMIT_HEADER, [["事项", "06010", "处置", "C", "一般性", "abc", ""]]))
    err = io.StringIO()
    with pytest.raises(CommandError, match="数据库未做任何修改"):
        call_command("import_time_limits", str(bad), stdout=io.StringIO(), stderr=err)
    assert "第 2 行「时限（工作时）」" in err.getvalue()


# --- powers -------------------------------------------------------------------------------------


def test_powers_import_adds_a_version_and_updates_in_place(loaded: LoadReport) -> None:
    data = table(
        POWER_HEADER,
        [
            [
                "SCJG-001",
                "对无照经营的查处",
                "市场监管",
                "《无证无照经营查处办法》第十三条",
                "局",
                "2024-03-01",
                "",
                "事项09001 事项09004",
                "新版",
            ],
            [
                "SRHW-001",
                "对在城市道路两侧和公共场地擅自堆放物料、摆摊设点的处罚",
                "sanitation",
                "《城市市容和环境卫生管理条例》",
                "执法中队",
                "2019/1/1",
                "",
                "事项09005、事项09006",
                "",
            ],
            [
                "HD-001",
                "对河道内违法采砂的查处",
                "市政",
                "《中华人民共和国河道管理条例》",
                "department",
                "2025年1月1日",
                "2025-12-31",
                "",
                "本局新增",
            ],
        ],
        "xlsx",
    )
    report = powers_import(data, filename="powers.xlsx")
    assert report.ok, report.errors
    assert (report.created, report.updated, report.unchanged) == (2, 1, 0)
    versions = list(PowerItem.objects.filter(code="SCJG-001").order_by("effective_from"))
    assert [v.effective_from for v in versions] == [dt.date(2019, 1, 1), dt.date(2024, 3, 1)]
    assert {c.code for c in versions[1].categories.all()} == {"09001", "09004"}
    assert {p.code: p.legal_basis for p in selectors.powers_in_force(dt.date(2024, 6, 1))}[
        "SCJG-001"
    ].endswith("第十三条")
    stall = PowerItem.objects.get(code="SRHW-001")
    assert {c.code for c in stall.categories.all()} == {"09005", "09006"}  # 06036 dropped by the file
    river = PowerItem.objects.get(code="HD-001")
    assert (river.domain.code, river.responsible_unit_kind, river.effective_to) == (
        "municipal",
        "department",
        dt.date(2025, 12, 31),
    )
    again = powers_import(data, filename="powers.xlsx")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)


def test_powers_import_failure_leaves_the_database_unchanged(loaded: LoadReport) -> None:
    before = powers_state()
    data = table(
        POWER_HEADER,
        [
            ["NEW-1", "好的一行", "环保", "《某法》", "局", "2024-01-01", "", "", ""],
            ["NEW-2", "未知领域", "城建", "《某法》", "局", "2024-01-01", "", "", ""],
            ["NEW-3", "未知单位类型", "环保", "《某法》", "科室", "2024-01-01", "", "", ""],
            ["NEW-4", "日期", "环保", "《某法》", "局", "2024-13-01", "2023-01-01", "", ""],
            ["NEW-5", "倒置日期", "环保", "《某法》", "局", "2024-01-01", "2023-01-01", "", ""],
            ["NEW-6", "类别", "环保", "《某法》", "局", "2024-01-01", "", "事项06999、01001、乱写", ""],
            ["NEW-1", "重复", "环保", "《某法》", "局", "2024-01-01", "", "", ""],
            ["", "", "环保", "", "局", "2024-01-01", "", "", ""],
        ],
    )
    report = powers_import(data, filename="bad.csv")
    messages = [str(error) for error in report.errors]
    expected = [
        "第 3 行「职能领域」：职能领域“城建”不存在",
        "第 4 行「责任单位类型」：责任单位类型“科室”无效",
        "第 5 行「生效日期」：日期“2024-13-01”无效",
        "第 6 行「失效日期」：失效日期早于生效日期",
        "第 7 行「相关类别」：事项 06999 不在类别目录中",
        "第 7 行「相关类别」：01001 既是部件也是事项",
        "第 7 行「相关类别」：“乱写”不是类别编码",
        "第 8 行：与第 2 行的事项编码和生效日期相同",
        "第 9 行「事项编码」：「事项编码」不能为空",
        "第 9 行「法律依据」：「法律依据」不能为空",
    ]
    for fragment in expected:
        assert any(message.startswith(fragment) for message in messages), (fragment, messages)
    assert powers_state() == before


def test_import_powers_command(loaded: LoadReport, tmp_path: Path) -> None:
    path = tmp_path / "powers.csv"
    path.write_bytes(
        table(
            POWER_HEADER,
            [
                [
                    "GH-020",
                    "对违规取土的查处（新版）",
                    "规划",
                    "《中华人民共和国土地管理法》",
                    "执法中队",
                    "2025-01-01",
                    "",
                    "",
                    "",
                ]
            ],
        )
    )
    out = io.StringIO()
    call_command("import_powers", str(path), stdout=out)
    assert "新增 1 条" in out.getvalue()
    assert PowerItem.objects.filter(code="GH-020").exists()
    path.write_bytes(table(POWER_HEADER, [["GH-021", "x", "规划", "《法》", "执法中队", "昨天", "", "", ""]]))
    with pytest.raises(CommandError):
        call_command("import_powers", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert not PowerItem.objects.filter(code="GH-021").exists()
