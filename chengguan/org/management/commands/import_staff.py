from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from chengguan.org import services
from chengguan.org.management.commands._table_command import ImportCommand


class Command(ImportCommand):
    help = (
        "从 CSV/XLSX 导入人员（按工号新增或更新），所属单位须已存在。所有行校验通过后才一次性写入；"
        "有任何错误时逐行报告并不做修改。"
    )
    what = "人员"

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--create-users",
            action="store_true",
            help="登录账号不存在时自动创建（无密码，需管理员另行设置）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_import(options, services.staff_import_file, create_users=options["create_users"])
