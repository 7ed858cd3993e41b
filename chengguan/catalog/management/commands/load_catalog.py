from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError

from chengguan.catalog import services
from chengguan.catalog.shipped import DATA_DIR
from chengguan.core.progress import Progress


class Command(BaseCommand):
    help = (
        "载入随产品发布的部件事项目录（GB/T 47678.5-2026）、2013 版编码对照、本地示例设置、环节时限和"
        "权责清单。可重复运行：国家标准字段（编码、名称、大类）总是更新；本局在后台改过的本地字段保留，"
        "除非指定 --reset-local。"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--only",
            action="append",
            metavar="PART",
            help=f"只载入某些部分（可重复或用逗号分隔）：{', '.join(services.PARTS)}",
        )
        parser.add_argument(
            "--reset-local",
            action="store_true",
            help="把本地字段（职能领域、立案结案条件、考评层级、时限、权责事项等）恢复为发布的示例值",
        )
        parser.add_argument(
            "--data-dir", type=Path, default=DATA_DIR, help="数据文件目录（默认随产品发布的目录）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        parts: list[str] = list(services.PARTS)
        if options["only"]:
            parts = [p.strip() for value in options["only"] for p in value.split(",") if p.strip()]
        progress = Progress(cast(TextIO, self.stdout))  # OutputWrapper writes like a text stream
        if options["reset_local"]:
            progress.step("注意：--reset-local 会覆盖本局对示例值的修改")
        try:
            report = services.catalog_load(
                parts=parts,
                reset_local=options["reset_local"],
                data_dir=options["data_dir"],
                progress=progress,
            )
        except services.CatalogDataError as exc:
            self.stderr.write(f"目录数据有 {len(exc.problems)} 处问题，数据库未做任何修改：")
            for problem in exc.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError("载入失败。") from exc
        for line in report.lines():
            progress.step(line)
        progress.step(report.summary())
