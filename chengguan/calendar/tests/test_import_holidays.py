"""import_holidays: a whole file or nothing, every error reported with its line."""

from __future__ import annotations

import datetime as dt
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from chengguan.calendar import selectors
from chengguan.calendar.models import CalendarDay
from chengguan.calendar.rows import parse_date, parse_working
from chengguan.core.tabular import write_table

pytestmark = pytest.mark.django_db

HEADER = ["日期", "是否工作日", "名称", "来源"]
# Rows shaped like a State Council notice; the dates are test data, not a published notice.
ROWS = [
    ["2027-01-01", "否", "元旦", "测试数据"],
    ["2027/1/2", "否", "元旦", "测试数据"],
    ["2027年1月3日", "否", "元旦", "测试数据"],
    ["2027-01-09", "是", "元旦调休上班", "测试数据"],
]


def write(tmp_path: Path, rows: list[list[str]], header: list[str] = HEADER, name: str = "h.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(write_table(header, rows, "xlsx" if name.endswith(".xlsx") else "csv"))
    return path


def run(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("import_holidays", str(path), *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def snapshot() -> list[tuple[dt.date, bool, str, str]]:
    return list(CalendarDay.objects.values_list("date", "is_working_day", "name", "source"))


def test_import_creates_then_reports_unchanged_then_updates(tmp_path: Path) -> None:
    assert "新增 4 条" in run(write(tmp_path, ROWS))
    assert snapshot() == [
        (dt.date(2027, 1, 1), False, "元旦", "测试数据"),
        (dt.date(2027, 1, 2), False, "元旦", "测试数据"),
        (dt.date(2027, 1, 3), False, "元旦", "测试数据"),
        (dt.date(2027, 1, 9), True, "元旦调休上班", "测试数据"),
    ]
    calendar = selectors.work_calendar()
    assert not calendar.is_working_day(dt.date(2027, 1, 1))
    assert calendar.is_working_day(dt.date(2027, 1, 9))  # a Saturday
    assert calendar.years_without_data(dt.date(2027, 1, 1), dt.date(2027, 12, 31)) == ()

    assert "未变 4 条" in run(write(tmp_path, ROWS))
    changed = [*ROWS[:3], ["2027-01-09", "否", "元旦", "更正通知"]]
    assert "更新 1 条，未变 3 条" in run(write(tmp_path, changed))
    assert not selectors.work_calendar().is_working_day(dt.date(2027, 1, 9))


def test_import_reads_xlsx_with_real_dates(tmp_path: Path) -> None:
    path = tmp_path / "h.xlsx"
    path.write_bytes(write_table(HEADER, [[dt.datetime(2027, 1, 1), "否", "元旦", ""]], "xlsx"))
    assert "新增 1 条" in run(path)
    assert snapshot() == [(dt.date(2027, 1, 1), False, "元旦", "")]


def test_dry_run_checks_without_writing(tmp_path: Path) -> None:
    version = selectors.calendar_version()
    assert "检查通过（未写入）：新增 4 条" in run(write(tmp_path, ROWS), "--dry-run")
    assert snapshot() == []
    assert selectors.calendar_version() == version


@pytest.mark.parametrize(
    ("rows", "header", "messages"),
    [
        (
            [*ROWS, ["2027-02-30", "否", "春节", ""], ["2027-02-06", "也许", "", ""]],
            HEADER,
            ["第 6 行「日期」：日期「2027-02-30」不存在。", "第 7 行「是否工作日」", "第 7 行「名称」"],
        ),
        ([*ROWS, ["2027-01-01", "是", "重复", ""]], HEADER, ["第 6 行「日期」：2027-01-01 与第 2 行重复。"]),
        ([["二〇二七年", "否", "元旦", ""]], HEADER, ["第 2 行「日期」：「二〇二七年」不是日期"]),
        ([["2027-01-01", "否", "元旦" * 40, ""]], HEADER, ["名称不能超过 60 个字"]),
        ([["2027-01-01", "否"]], ["日期", "是否工作日"], ["缺少必需的列：名称"]),
        ([], HEADER, ["文件中没有数据行"]),
    ],
)
def test_errors_leave_the_database_unchanged(
    tmp_path: Path, rows: list[list[str]], header: list[str], messages: list[str]
) -> None:
    run(write(tmp_path, [["2027-01-01", "否", "元旦", "先前录入"]], name="before.csv"))
    before, version = snapshot(), selectors.calendar_version()
    err = StringIO()
    with pytest.raises(CommandError, match="数据库未做任何修改"):
        call_command("import_holidays", str(write(tmp_path, rows, header)), stdout=StringIO(), stderr=err)
    for message in messages:
        assert message in err.getvalue()
    assert snapshot() == before
    assert selectors.calendar_version() == version


def test_extra_cells_and_unreadable_files_are_refused(tmp_path: Path) -> None:
    extra = tmp_path / "extra.csv"
    extra.write_text("日期,是否工作日,名称\n2027-01-01,否,元旦,多余\n", encoding="utf-8")
    with pytest.raises(CommandError):
        run(extra)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("日期,是否工作日,名称\n2027-01-01,否,元旦\n".encode("gbk"))
    with pytest.raises(CommandError, match="不是 UTF-8 编码"):
        run(gbk)
    assert snapshot() == []
    # The clerk's fix: name the encoding.
    assert "新增 1 条" in run(gbk, "--encoding", "gbk")
    with pytest.raises(CommandError, match="无法打开文件"):
        run(tmp_path / "missing.csv")
    with pytest.raises(CommandError, match="不支持的文件类型"):
        run(write(tmp_path, ROWS, name="h.txt"))


def test_accepted_spellings() -> None:
    assert parse_date("2027.1.1") == parse_date("2027-01-01 00:00:00") == dt.date(2027, 1, 1)
    assert all(parse_working(text) for text in ["是", "上班", "Y", "true", "1", "班"])
    assert not any(parse_working(text) for text in ["否", "放假", "休", "N", "false", "0", "休息日"])
    with pytest.raises(ValueError, match="请填“是”（上班）或“否”（放假）"):
        parse_working("")
