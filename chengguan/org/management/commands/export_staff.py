from __future__ import annotations

from typing import Any

from chengguan.org import selectors
from chengguan.org.management.commands._table_command import ExportCommand
from chengguan.org.models import Staff


class Command(ExportCommand):
    help = "把全部人员导出为 CSV 或 XLSX（与导入的列相同，可原样再导入）。"
    what = "人员"

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_export(options, selectors.staff_table, Staff.objects.count())
