from typing import Any

from django.core.management.base import BaseCommand, CommandError

from chengguan.assessment import services
from chengguan.assessment.models import FrozenError
from chengguan.assessment.periods import parse_period


class Command(BaseCommand):
    help = "计算一个考评期间（月度、季度或年度），生成新版本；可同时发布。"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("period", help="期间：月度如 2026-03，季度如 2026-Q1，年度如 2026")
        parser.add_argument("--kind", choices=["month", "quarter", "year"], default="month")
        parser.add_argument("--publish", action="store_true", help="计算后立即发布（发布后冻结）")
        parser.add_argument("--note", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            period = parse_period(options["kind"], options["period"])
            run = services.run_assessment(options["kind"], period.start, note=options["note"])
            if options["publish"]:
                run = services.publish(run)
        except (ValueError, services.AssessmentError, FrozenError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"{run.period_label} v{run.version}（{run.get_status_display()}）：{run.results.count()} 个得分，"
            f"{run.measures.count()} 项拟追责措施，耗时 {run.elapsed_ms} ms"
        )
        changes = run.diff.get("changes") if run.diff else None
        if changes is not None:
            self.stdout.write(f"与 v{run.diff['previous_version']} 相比：{len(changes)} 个对象有变化")
            for change in changes[:20]:
                self.stdout.write(
                    f"  {change['name']}：{change['old_score']} → {change['new_score']}"
                    f"（{change['delta']}），名次 {change['old_rank']} → {change['new_rank']}"
                )
