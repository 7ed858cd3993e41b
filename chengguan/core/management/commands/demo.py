from typing import Any

from django.core.management.base import BaseCommand

from chengguan.core.progress import Progress
from chengguan.demo.builder import build


class Command(BaseCommand):
    help = "建立（或补齐）演示区：单位、人员、目录、责任矩阵和网格。重复运行不会改变任何数据。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--no-grid", action="store_true", help="不生成网格（约 5 万个单元网格，需要一些时间）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        progress = Progress(self.stdout)
        summary = build(progress, with_grid=not options["no_grid"])
        self.stdout.write("")
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("演示区已就绪。登录账号（演示用，请勿用于生产）："))
        for username, password, role in summary.logins:
            self.stdout.write(f"  {role:<8} 用户名 {username:<12} 密码 {password}")
