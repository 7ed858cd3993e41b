from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.core import backup
from chengguan.core.progress import Progress


class Command(BaseCommand):
    help = (
        "备份数据库和上传的照片到一个文件（默认 var/backups/chengguan-时间.tar）。"
        "SQLite 在线复制（不必停机），PostgreSQL 用 pg_dump。"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", "-o", type=Path, help="备份文件路径（.tar）")
        parser.add_argument("--no-media", action="store_true", help="不备份上传的照片和附件")
        parser.add_argument("--database", default="default", help="数据库别名（默认 default）")

    def handle(self, *args: Any, **options: Any) -> None:
        progress = Progress(self.stdout)
        try:
            result = backup.backup(
                options["output"],
                include_media=not options["no_media"],
                progress=progress,
                using=options["database"],
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("")
        for line in result.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("备份完成。请把备份文件另存到别的机器或介质上。"))
