"""`chengguan flag-overdue`: one overdue sweep now (the worker runs it every minute)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from chengguan.cases import tasks


class Command(BaseCommand):
    help = (
        "立即检查一次超期案件：超期的自动督办（每个环节一次），用时超过 80% 的发出预警。"
        "后台任务进程每分钟自动执行。"
    )

    def handle(self, *args: Any, **options: Any) -> None:
        report = tasks.sweep()
        self.stdout.write(f"超期督办 {len(report.overdue)} 件，预警 {len(report.warned)} 件。")
        for code in report.overdue:
            self.stdout.write(f"  督办 {code}")
        for code in report.refused:
            self.stdout.write(self.style.WARNING(f"  {code} 已超期，但当前状态不能督办（已标记）"))
