"""``chengguan grid layers``: the grid versions, newest first."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db.models import Count, Q

from chengguan.grid.models import GridLayer


class Command(BaseCommand):
    help = "列出网格版本（在用、待启用、已停用）"

    def handle(self, *args: Any, **options: Any) -> None:
        layers = GridLayer.objects.annotate(
            units=Count("cells", filter=Q(cells__level=4)), total=Count("cells")
        ).order_by("-created_at", "-id")
        if not layers:
            self.stdout.write(
                "还没有任何网格版本。可用 chengguan grid generate 或 chengguan grid import 创建。"
            )
            return
        for layer in layers:
            self.stdout.write(
                f"#{layer.pk:<4} {layer.get_status_display():<4} {layer.name}  网格 {layer.total:,} 个"
                f"（单元 {layer.units:,}）  错误 {layer.error_count}  警告 {layer.warning_count}  "
                f"{layer.created_at:%Y-%m-%d %H:%M}"
            )
