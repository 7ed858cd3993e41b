from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.assessment import services
from chengguan.assessment.models import Standard


class Command(BaseCommand):
    help = "从 CSV/XLSX 导入考评标准的条目、指标权重和追责规则（任何一行有错则不写入）。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("code", help="标准代码；不存在时新建草稿")
        parser.add_argument(
            "--standard-version", type=int, dest="standard_version", help="版本（默认最新版本）"
        )
        parser.add_argument("--name", default="", help="新建标准时的名称")
        parser.add_argument("--items", type=Path)
        parser.add_argument("--weights", type=Path)
        parser.add_argument("--rules", type=Path)
        parser.add_argument("--encoding", default=None, help="CSV 编码，如 gbk")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--activate", action="store_true", help="导入后启用该版本")

    def handle(self, *args: Any, **options: Any) -> None:
        qs = Standard.objects.filter(code=options["code"])
        if options["standard_version"]:
            qs = qs.filter(version=options["standard_version"])
        standard = qs.order_by("-version").first()
        if standard is None:
            if options["dry_run"]:
                raise CommandError(f"标准“{options['code']}”不存在（校验模式不新建）。")
            standard = Standard.objects.create(
                code=options["code"],
                version=options["standard_version"] or 1,
                name=options["name"] or options["code"],
            )
        failed = False
        for key, loader in (
            ("items", services.import_items),
            ("weights", services.import_weights),
            ("rules", services.import_rules),
        ):
            path = options[key]
            if path is None:
                continue
            report = loader(standard, path, encoding=options["encoding"], dry_run=options["dry_run"])
            self.stdout.write(f"{path.name}：{report.summary()}")
            for error in report.errors:
                self.stdout.write(f"  {error}")
            failed |= not report.ok
        if failed:
            raise CommandError("导入有错误，未写入。")
        if options["activate"] and not options["dry_run"]:
            services.activate_standard(standard)
            self.stdout.write(f"已启用 {standard}")
