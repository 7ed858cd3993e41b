from __future__ import annotations

from typing import Any

from chengguan.org import selectors
from chengguan.org.management.commands._table_command import ExportCommand
from chengguan.org.models import OrgUnit


class Command(ExportCommand):
    help = "把全部单位导出为 CSV 或 XLSX（与导入的列相同，可原样再导入）。"
    what = "单位"

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_export(options, selectors.units_table, OrgUnit.objects.count())
