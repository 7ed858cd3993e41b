"""The import and export commands: output in Chinese, exit status, files on disk."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from chengguan.cli import main
from chengguan.org.models import OrgUnit, Staff
from chengguan.org.rules import UNIT_COLUMNS
from chengguan.org.tests.samples import STAFF, UNITS, gbk_csv, staff_file, units_file, with_cell

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_org_command(domains, tmp_path):
    path = tmp_path / "units.xlsx"
    path.write_bytes(units_file("xlsx"))

    out, _ = run("import_org", str(path))

    assert OrgUnit.objects.count() == len(UNITS)
    assert f"单位导入完成：新增 {len(UNITS)} 条，更新 0 条，未变 0 条。" in out
    assert "校验 11 行单位数据" in out


# The console script closes every database connection when it ends, as Django's
# run_from_argv does; only a transactional test survives that with its data visible.
@pytest.mark.django_db(transaction=True)
def test_import_org_errors_exit_nonzero_with_row_messages(domains, tmp_path, capsys):
    path = tmp_path / "units.csv"
    path.write_bytes(units_file(rows=with_cell(UNITS, "HS-JD-YJ", "上级单位编码", "HS-NOPE")))

    # --skip-checks: the exit status under test is the import's, not that of system checks
    # on apps other people are building in the same tree.
    with pytest.raises(SystemExit) as exit_info:
        main(["import-org", str(path), "--skip-checks"])

    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "第 7 行「上级单位编码」：上级单位「HS-NOPE」不存在" in err
    assert "数据库未做任何修改" in err
    assert OrgUnit.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_import_org_console_script_succeeds(domains, tmp_path, capsys):
    path = tmp_path / "units.csv"
    path.write_bytes(units_file())

    assert main(["import-org", str(path), "--skip-checks"]) == 0
    assert "单位导入完成" in capsys.readouterr().out
    assert OrgUnit.objects.count() == len(UNITS)


def test_gbk_file_needs_the_encoding_option(domains, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(gbk_csv(UNIT_COLUMNS, UNITS))

    with pytest.raises(CommandError):
        run("import_org", str(path))
    assert OrgUnit.objects.count() == 0

    out, _ = run("import_org", str(path), "--encoding", "gbk")

    assert OrgUnit.objects.get(code="HS-CGW").name == "红山区城市管理委员会"
    assert "单位导入完成" in out


def test_gbk_refusal_message(domains, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(gbk_csv(UNIT_COLUMNS, UNITS))
    err = io.StringIO()

    with pytest.raises(CommandError, match="数据库未做任何修改"):
        call_command("import_org", str(path), stdout=io.StringIO(), stderr=err)

    assert "文件：文件不是 UTF-8 编码" in err.getvalue()
    assert "--encoding gbk" in err.getvalue()


def test_dry_run_writes_nothing(domains, tmp_path):
    path = tmp_path / "units.csv"
    path.write_bytes(units_file())

    out, _ = run("import_org", str(path), "--dry-run")

    assert "试运行" in out and f"新增 {len(UNITS)} 条" in out
    assert OrgUnit.objects.count() == 0


def test_missing_file(domains, tmp_path):
    with pytest.raises(CommandError):
        run("import_org", str(tmp_path / "nowhere.csv"))


def test_import_staff_command(org_chart, tmp_path):
    path = tmp_path / "staff.csv"
    path.write_bytes(staff_file())

    with pytest.raises(CommandError):
        run("import_staff", str(path))
    assert Staff.objects.count() == 0

    out, _ = run("import_staff", str(path), "--create-users")

    assert Staff.objects.count() == len(STAFF)
    assert "人员导入完成" in out


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_commands_write_reimportable_files(staffed, tmp_path, fmt):
    units_path, staff_path = tmp_path / f"units.{fmt}", tmp_path / f"staff.{fmt}"

    out, _ = run("export_org", str(units_path))
    run("export_staff", str(staff_path))

    assert f"已导出 {len(UNITS)} 个单位" in out
    if fmt == "xlsx":
        sheet = load_workbook(units_path).worksheets[0]
        assert [cell.value for cell in next(sheet.iter_rows(max_row=1))] == list(UNIT_COLUMNS)
    else:
        assert units_path.read_text("utf-8-sig").splitlines()[0] == ",".join(UNIT_COLUMNS)
    again, _ = run("import_org", str(units_path))
    assert f"新增 0 条，更新 0 条，未变 {len(UNITS)} 条" in again
    again, _ = run("import_staff", str(staff_path))
    assert f"新增 0 条，更新 0 条，未变 {len(STAFF)} 条" in again


def test_export_refuses_unknown_extension(org_chart, tmp_path):
    with pytest.raises(CommandError, match=r"扩展名应为 \.csv 或 \.xlsx"):
        run("export_org", str(tmp_path / "units.txt"))
