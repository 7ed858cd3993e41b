from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.catalog.crosswalk import MATCH_METHODS, crosswalk_csv
from chengguan.catalog.shipped import CROSSWALK_FILE, DATA_DIR, ShippedDataError, build_shipped_crosswalk


class Command(BaseCommand):
    help = (
        "由 2013 版目录、2026 版目录和人工对照表重新生成 2013→2026 编码对照表（crosswalk_2013_2026.csv）。"
        "--check 只比较，不一致时报错（供发布前检查）。"
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="数据文件目录")
        parser.add_argument("--check", action="store_true", help="只检查对照表是否为最新，不写文件")

    def handle(self, *args: Any, **options: Any) -> None:
        data_dir: Path = options["data_dir"]
        try:
            rows = build_shipped_crosswalk(data_dir)
        except ShippedDataError as exc:
            for problem in exc.problems:
                self.stderr.write(f"  {problem}")
            raise CommandError("数据文件有问题，未生成对照表。") from exc
        text = crosswalk_csv(rows)
        target = data_dir / CROSSWALK_FILE
        counts = "，".join(f"{m} {sum(r.match == m for r in rows)}" for m in MATCH_METHODS)
        if options["check"]:
            current = target.read_text(encoding="utf-8") if target.exists() else ""
            if current != text:
                raise CommandError(f"{target} 不是最新，请运行 chengguan build-crosswalk 重新生成。")
            self.stdout.write(f"{target} 是最新的（{len(rows)} 条：{counts}）。")
            return
        target.write_text(text, encoding="utf-8")
        self.stdout.write(f"已写入 {target}：{len(rows)} 条（{counts}）。")
