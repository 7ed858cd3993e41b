"""import_holidays FILE: the State Council holiday notice as CSV/XLSX rows, all or nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chengguan.calendar.services import calendar_days_import
from chengguan.core.tabular import TableError, read_table


class Command(BaseCommand):
    help = (
        "导入节假日与调休工作日（CSV 或 XLSX，列：日期、是否工作日、名称，可选 来源、备注）。"
        "任何一行有错则整个文件不导入。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV 或 XLSX 文件")
        parser.add_argument("--encoding", help="CSV 的编码，例如 gbk（默认 UTF-8）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入数据库")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            table = read_table(options["file"], encoding=options["encoding"])
        except TableError as exc:
            raise CommandError(str(exc)) from exc
        report = calendar_days_import(table=table, dry_run=options["dry_run"])
        if not report.ok:
            for error in report.errors:
                self.stderr.write(str(error))
            raise CommandError(report.summary())
        prefix = "检查通过（未写入）：" if options["dry_run"] else ""
        self.stdout.write(self.style.SUCCESS(prefix + report.summary()))
