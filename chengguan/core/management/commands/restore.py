import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.core import backup
from chengguan.core.progress import Progress


class Command(BaseCommand):
    help = (
        "用备份文件替换当前数据库并放回上传的照片。恢复前会先把当前数据库另存到 var/backups/。"
        "请先停止网站和后台任务进程。"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path, help="chengguan backup 生成的备份文件")
        parser.add_argument(
            "--no-input", "--noinput", action="store_false", dest="interactive", help="不询问确认"
        )
        parser.add_argument("--no-media", action="store_true", help="不恢复上传的照片和附件")
        parser.add_argument("--no-safety-copy", action="store_true", help="恢复前不另存当前数据库")
        parser.add_argument("--force", action="store_true", help="备份来自更新的版本时也恢复")
        parser.add_argument("--database", default="default", help="数据库别名（默认 default）")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            description = backup.describe(path)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        for line in description:
            self.stdout.write(line)
        if options["interactive"]:
            if not sys.stdin or not sys.stdin.isatty():
                raise CommandError("需要确认：请在终端中运行，或加 --no-input。")
            answer = input("当前数据库的内容将被备份中的数据替换。输入 yes 继续：")
            if answer.strip().lower() != "yes":
                raise CommandError("已取消，未做任何改动。")
        progress = Progress(self.stdout)
        try:
            result = backup.restore(
                path,
                include_media=not options["no_media"],
                safety_copy=not options["no_safety_copy"],
                force=options["force"],
                progress=progress,
                using=options["database"],
            )
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write("")
        for line in result.lines():
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("恢复完成。请重新启动网站和后台任务进程。"))
