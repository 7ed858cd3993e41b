"""What the catalogue's import commands share: arguments, progress and the report."""

from __future__ import annotations

from argparse import ArgumentParser
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError

from chengguan.core.progress import Progress
from chengguan.core.tabular import ImportReport


class CatalogImportCommand(BaseCommand):
    what = ""  # 环节时限 / 权责清单, for the messages

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", metavar="FILE", help="CSV 或 XLSX 文件")
        parser.add_argument(
            "--encoding", help="CSV 文件的编码，例如 gbk（Excel 默认另存的 CSV）；不填时按 UTF-8 读取"
        )
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入数据库")

    def run_import(self, options: dict[str, Any], importer: Callable[..., ImportReport]) -> None:
        path = Path(options["file"])
        progress = Progress(cast(TextIO, self.stdout))  # OutputWrapper writes like a text stream
        progress.step(f"读取并校验 {path}")
        report = importer(path, encoding=options["encoding"], dry_run=options["dry_run"])
        if not report.ok:
            self.stderr.write(f"{self.what}导入失败，共 {len(report.errors)} 处错误：")
            for error in report.errors:
                self.stderr.write(f"  {error}")
            raise CommandError(report.summary())
        if options["dry_run"]:
            progress.step(f"试运行，只校验、未写入。按此文件导入将：{report.summary()}")
        else:
            progress.step(f"{self.what}导入完成：{report.summary()}")
