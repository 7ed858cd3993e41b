from collections import defaultdict
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.routing.services import unrouted


class Command(BaseCommand):
    help = "列出在某个镇街没有派遣规则的类别（责任矩阵检查）。"

    def handle(self, *args: Any, **options: Any) -> None:
        missing = unrouted()
        if not missing:
            self.stdout.write(self.style.SUCCESS("责任矩阵完整：每个在用类别在每个镇街都有派遣规则。"))
            return
        by_category: dict[str, list[str]] = defaultdict(list)
        for gap in missing:
            by_category[str(gap.category)].append(gap.territory.name)
        for category, places in sorted(by_category.items()):
            self.stdout.write(f"{category}：{'、'.join(places)}")
        raise CommandError(
            f"{len(by_category)} 个类别在 {len(missing)} 个镇街组合上没有派遣规则。"
            "请在后台“派遣规则”中补充镇街规则或全区默认规则。"
        )
