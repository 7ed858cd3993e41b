from __future__ import annotations

from typing import Any

from chengguan.catalog import services
from chengguan.catalog.management.commands._import import CatalogImportCommand


class Command(CatalogImportCommand):
    help = (
        "从 CSV/XLSX 导入本局的环节时限。列：类型（部件/事项）、类别编码、环节（核实/立案/派遣/处置/核查）、"
        "区域类别（A/B/C，可空）、处置类型（一般性/工程性/特殊性，可空）、时限（工作时）、来源（可空）。"
        "全部行校验通过后才一次性写入；有任何错误时逐行报告，不做修改。"
    )
    what = "环节时限"

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_import(options, services.time_limits_import)
