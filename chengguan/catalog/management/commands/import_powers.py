from __future__ import annotations

from typing import Any

from chengguan.catalog import services
from chengguan.catalog.management.commands._import import CatalogImportCommand


class Command(CatalogImportCommand):
    help = (
        "从 CSV/XLSX 导入权责清单事项。列：事项编码、事项名称、职能领域、法律依据、责任单位类型、生效日期、"
        "失效日期（可空）、相关类别（如 事项06001、部件01001，可空）、备注（可空）。"
        "同一事项编码的新生效日期即新版本，旧版本保留。全部行校验通过后才一次性写入。"
    )
    what = "权责清单"

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_import(options, services.powers_import)
