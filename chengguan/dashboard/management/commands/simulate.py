"""``chengguan simulate --cases N --years Y [--seed S] [--append]``."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from chengguan.core.progress import Progress
from chengguan.dashboard.services import simulate
from chengguan.dashboard.simulation import SimulationError


class Command(BaseCommand):
    help = (
        "在演示区写入模拟的历史案件（季节、工作日、来源、类别、单位效率、返工、延期、投诉、满意度），"
        "供统计页面和性能测试使用。同一种子重复运行不做修改；--append 追加一批。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, required=True, help="案件数")
        parser.add_argument("--years", type=float, default=1.0, help="覆盖最近多少年（默认 1）")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
        parser.add_argument("--append", action="store_true", help="该种子已有数据时再追加一批")
        parser.add_argument(
            "--until", help="模拟截止日期 YYYY-MM-DD（默认此刻；指定日期时截至当日 18:00，结果可复现）"
        )
        parser.add_argument("--chunk", type=int, default=20_000, help="每批写入的案件数")
        parser.add_argument("--no-refresh", action="store_true", help="不刷新统计日汇总")

    def handle(self, *args: Any, **options: Any) -> None:
        end = None
        if options["until"]:
            try:
                day = dt.date.fromisoformat(options["until"])
            except ValueError as exc:
                raise CommandError("--until 应为 YYYY-MM-DD") from exc
            end = dt.datetime.combine(day, dt.time(18, 0), tzinfo=ZoneInfo(settings.TIME_ZONE))
        try:
            result = simulate(
                cases=options["cases"],
                years=options["years"],
                seed=options["seed"],
                append=options["append"],
                end=end,
                progress=Progress(self.stdout),
                chunk=options["chunk"],
                refresh=not options["no_refresh"],
            )
        except SimulationError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("")
        style = self.style.SUCCESS if result.created else self.style.WARNING
        self.stdout.write(style(result.message))
        for line in result.lines:
            self.stdout.write(f"  {line}")
