"""``chengguan grid activate ID``: make a saved grid version the active grid."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.grid.models import GridLayer
from chengguan.grid.services import GridServiceError, activate_layer
from chengguan.grid.validation import Report


class Command(BaseCommand):
    help = "启用一个已保存的网格版本；校验有错误时须加 --accept-report"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("layer", type=int, help="网格版本编号（见 chengguan grid layers）")
        parser.add_argument("--accept-report", action="store_true", help="确认接受校验报告中的错误并启用")

    def handle(self, *args: Any, **options: Any) -> None:
        layer = GridLayer.objects.filter(pk=options["layer"]).first()
        if layer is None:
            raise CommandError(f"没有编号为 {options['layer']} 的网格版本。")
        try:
            activate_layer(layer, accept_report=options["accept_report"])
        except GridServiceError as exc:
            self.stdout.write(Report.from_dict(layer.report).format_text(10))
            raise CommandError(str(exc)) from exc
        accepted = f"（已接受含 {layer.error_count} 个错误的校验报告）" if layer.report_accepted else ""
        self.stdout.write(f"网格版本 #{layer.pk}「{layer.name}」已启用{accepted}。")
