from __future__ import annotations

from typing import Any

from chengguan.org import services
from chengguan.org.management.commands._table_command import ImportCommand


class Command(ImportCommand):
    help = (
        "从 CSV/XLSX 导入单位（按单位编码新增或更新）。所有行校验通过后才一次性写入；"
        "有任何错误时逐行报告并不做修改。"
    )
    what = "单位"

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_import(options, services.units_import_file)
