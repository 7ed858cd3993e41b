"""``chengguan grid assign FILE``: assign people to grid cells from a CSV/XLSX table."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.grid.services import import_duties


class Command(BaseCommand):
    help = "按表格（网格编码、工号、职责、部门）指定网格责任人；有一行错误则全部不写入"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", type=Path, help="CSV 或 XLSX 文件")
        parser.add_argument("--encoding", help="CSV 编码，例如 gbk")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")

    def handle(self, *args: Any, **options: Any) -> None:
        report = import_duties(options["file"], encoding=options["encoding"], dry_run=options["dry_run"])
        if not report.ok:
            for error in report.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(report.summary())
        self.stdout.write(("试运行：" if options["dry_run"] else "") + report.summary())
