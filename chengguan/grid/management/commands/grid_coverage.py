"""``chengguan grid coverage``: grids without an inspector and patrol staff without a grid."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.grid.models import DutyRole
from chengguan.grid.selectors import active_layer, duty_coverage
from chengguan.grid.validation import LEVEL_NAMES


class Command(BaseCommand):
    help = "人员入格情况：没有巡查员的网格、没有网格的巡查员和协管员"

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--level", type=int, default=2, choices=[1, 2, 3, 4], help="按哪一级网格统计，默认 2（责任网格）"
        )
        parser.add_argument(
            "--role", default=DutyRole.INSPECTOR, choices=DutyRole.values, help="统计哪种职责，默认巡查员"
        )
        parser.add_argument("--limit", type=int, default=50, help="每个清单最多列出几条")

    def handle(self, *args: Any, **options: Any) -> None:
        layer = active_layer()
        if layer is None:
            raise CommandError("当前没有在用的网格。")
        result = duty_coverage(layer, options["level"], options["role"])
        level, role = LEVEL_NAMES[options["level"]], DutyRole(options["role"]).label
        limit = options["limit"]
        self.stdout.write(
            f"{level}共 {result['cells']} 个：没有{role}的 {len(result['uncovered'])} 个，"
            f"只有部分下级网格有{role}的 {len(result['partly'])} 个。"
        )
        for title, items in ((f"没有{role}的{level}", result["uncovered"]), ("部分覆盖", result["partly"])):
            if items:
                self.stdout.write(f"【{title}】")
                for item in items[:limit]:
                    self.stdout.write(f"  {item['name']}（{item['code']}）")
                if len(items) > limit:
                    self.stdout.write(f"  …… 另有 {len(items) - limit} 个")
        idle = result["idle_staff"]
        self.stdout.write(f"没有分配网格的巡查员、协管员：{len(idle)} 人")
        for person in idle[:limit]:
            self.stdout.write(
                f"  {person.code} {person.name}（{person.get_role_display()}，{person.unit.name}）"
            )
        if len(idle) > limit:
            self.stdout.write(f"  …… 另有 {len(idle) - limit} 人")
