"""``chengguan grid import``: import a grid (one file per level) as a new grid version."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError

from chengguan.core.progress import Progress
from chengguan.grid.management.commands._sources import (
    add_source_arguments,
    sources_from_options,
    tolerances_from_options,
)
from chengguan.grid.readers import GridFileError
from chengguan.grid.services import GridServiceError, import_grid


class Command(BaseCommand):
    help = "从 GeoJSON/Shapefile/GeoPackage 导入网格（每级一个文件），校验通过后启用"

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_source_arguments(parser)
        parser.add_argument("--name", default="导入网格", help="网格版本名称")
        parser.add_argument(
            "--accept-report", action="store_true", help="校验有错误时仍然启用（确认接受校验报告）"
        )
        parser.add_argument("--no-activate", action="store_true", help="只保存为待启用版本")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入数据库")
        parser.add_argument("--limit", type=int, default=30, help="报告中每类问题最多列出几条")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = Progress(cast(TextIO, self.stdout))
        try:
            outcome = import_grid(
                sources_from_options(options),
                name=options["name"],
                gcj02=options["gcj02"],
                boundary_path=options["boundary"],
                tolerances=tolerances_from_options(options),
                accept_report=options["accept_report"],
                activate=not options["no_activate"],
                dry_run=options["dry_run"],
                progress=progress,
            )
        except (GridFileError, GridServiceError) as exc:
            raise CommandError(f"{exc}\n数据库未做任何修改。") from exc
        for note in outcome.notes:
            self.stdout.write(f"说明：{note}")
        self.stdout.write(outcome.report.format_text(options["limit"]))
        self.stdout.write("")
        self.stdout.write(outcome.message())
