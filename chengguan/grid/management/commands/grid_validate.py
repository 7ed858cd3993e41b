"""``chengguan grid validate``: the validation report of the active grid, a saved version or files."""

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
from chengguan.grid.models import GridLayer
from chengguan.grid.readers import GridFileError
from chengguan.grid.selectors import active_layer
from chengguan.grid.services import GridServiceError, prepare_import, revalidate_layer


class Command(BaseCommand):
    help = "校验网格：全覆盖、无重叠、无缝隙、上下级嵌套、几何有效；有错误时退出码为 1"

    def add_arguments(self, parser: ArgumentParser) -> None:
        add_source_arguments(parser)
        parser.add_argument(
            "--layer", type=int, help="校验已保存的网格版本（编号）；不填且未给文件时校验在用网格"
        )
        parser.add_argument("--save", action="store_true", help="把新的校验报告存入该网格版本")
        parser.add_argument("--limit", type=int, default=30, help="每类问题最多列出几条")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = Progress(cast(TextIO, self.stdout))
        try:
            if options["level"]:
                _, _, report = prepare_import(
                    sources_from_options(options),
                    gcj02=options["gcj02"],
                    boundary_path=options["boundary"],
                    tolerances=tolerances_from_options(options),
                    progress=progress,
                )
            else:
                layer = (
                    GridLayer.objects.filter(pk=options["layer"]).first()
                    if options["layer"]
                    else active_layer()
                )
                if layer is None:
                    raise CommandError(
                        f"没有编号为 {options['layer']} 的网格版本。"
                        if options["layer"]
                        else "当前没有在用的网格。"
                    )
                progress.step(f"校验网格版本 #{layer.pk}「{layer.name}」")
                report = revalidate_layer(
                    layer,
                    tolerances=tolerances_from_options(options),
                    save=options["save"],
                    progress=progress,
                )
        except (GridFileError, GridServiceError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(report.format_text(options["limit"]))
        if not report.ok:
            raise CommandError(f"校验发现 {len(report.errors)} 个错误。")
