"""``chengguan dashboard-refresh [--all | --from D --to D]``: rebuild the daily summary."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from chengguan.dashboard import summary


class Command(BaseCommand):
    help = (
        "刷新统计日汇总。默认只重算上次刷新以来有变化的日期和新结束的日期（后台任务每 5 分钟运行一次）；"
        "--all 重算全部日期，--from/--to 重算指定日期。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="重算全部日期")
        parser.add_argument("--from", dest="first", help="起始日期 YYYY-MM-DD")
        parser.add_argument("--to", dest="last", help="截止日期 YYYY-MM-DD（含）")

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["first"] or options["last"]:
            try:
                first = dt.date.fromisoformat(options["first"] or options["last"])
                last = dt.date.fromisoformat(options["last"] or options["first"])
            except ValueError as exc:
                raise CommandError("日期应为 YYYY-MM-DD") from exc
            rows = summary.refresh_summary(min(first, last), max(first, last))
            message = f"已重算 {first} 至 {last}：{rows:,} 行汇总"
        elif options["all"]:
            rows = summary.refresh_all()
            message = f"已重算全部日期：{rows:,} 行汇总"
        else:
            days, rows = summary.refresh_changed()
            message = f"已重算 {days} 天：{rows:,} 行汇总"
        self.stdout.write(self.style.SUCCESS(f"{message}（{time.monotonic() - started:.1f}s）"))
