from typing import Any

from django.core.management.base import BaseCommand

from chengguan.assessment.demo import load_sample_standard


class Command(BaseCommand):
    help = "载入示例考评标准（六个零容忍、十个严管理、常规工作，示例权重与追责规则）；重复运行不改变数据。"

    def handle(self, *args: Any, **options: Any) -> None:
        standard = load_sample_standard()
        self.stdout.write(
            f"{standard}：{standard.items.count()} 个条目、{standard.weights.count()} 个指标权重、"
            f"{standard.rules.count()} 条追责规则（{standard.get_status_display()}）"
        )
