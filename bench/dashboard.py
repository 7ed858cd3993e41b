"""Time every dashboard query on a simulated district: ``python -m bench.dashboard``.

On its own PostgreSQL database (``chengguan_bench_dash`` unless ``--url`` says otherwise) it
builds what is missing — migrations, the demo district with its ~50,000-cell grid, N
simulated cases (1,000,000 by default; ``--cases 20000`` for a quick run), the daily summary —
and then times each query the dashboard and the big screen run: the median of ``--repeat``
runs after one warm-up, against the 300 ms target. Each period query is timed twice, as the
page runs it (whole past days from the daily summary, today from the cases) and straight
from the case table, so the table shows what the summary buys.

Building 1,000,000 cases takes a while (about 15 minutes on two cores); it happens once, as
the simulation is idempotent per seed.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlparse

TARGET_MS = 300.0
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/chengguan_bench_dash"


def ensure_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"已创建数据库 {name}")


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    result = fn()  # warm-up (plans, caches)
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", default=os.environ.get("BENCH_DASHBOARD_URL", DEFAULT_URL))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-build", action="store_true", help="只计时，不检查和补建数据")
    args = parser.parse_args(argv)
    if not args.url.startswith(("postgres://", "postgresql://")):
        parser.error("bench.dashboard runs on PostgreSQL: --url postgres://…")

    os.environ["DATABASE_URL"] = args.url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chengguan.settings")
    ensure_database(args.url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from chengguan.cases.models import Case, CaseEvent
    from chengguan.core.progress import Progress
    from chengguan.dashboard import board as boards
    from chengguan.dashboard import figures, selectors, summary
    from chengguan.dashboard.figures import PeriodKind
    from chengguan.dashboard.models import DailyCaseStat, SimulationRun
    from chengguan.dashboard.selectors import Filters
    from chengguan.dashboard.services import simulate

    progress = Progress()
    if not args.skip_build:
        with progress.stage("迁移数据库"):
            call_command("migrate", interactive=False, verbosity=0)
        with progress.stage("演示区（含约 5 万个单元网格；已存在则不变）"):
            call_command("demo", verbosity=0)
        if not SimulationRun.objects.filter(seed=args.seed).exists():
            result = simulate(
                cases=args.cases, years=args.years, seed=args.seed, progress=progress, chunk=50_000
            )
            for line in result.lines:
                progress.step(line)
        with progress.stage("VACUUM ANALYZE（可见性映射与统计信息，大批量写入后应做）"):
            with connection.cursor() as cursor:
                for table in ("cases_case", "cases_caseevent", "dashboard_dailycasestat"):
                    cursor.execute(f"VACUUM ANALYZE {table}")
        with progress.stage("刷新统计日汇总（只重算有变化和新结束的日期）"):
            days, rows = summary.refresh_changed()
            progress.step(f"重算 {days} 天，{rows:,} 行")

    cases, events, stats = Case.objects.count(), CaseEvent.objects.count(), DailyCaseStat.objects.count()
    first, last = (
        Case.objects.order_by("reported_at").values_list("reported_at", flat=True)[:1].get(),
        (Case.objects.order_by("-reported_at").values_list("reported_at", flat=True)[:1].get()),
    )
    print()
    print(f"数据：案件 {cases:,} 件，流转记录 {events:,} 条，日汇总 {stats:,} 行", end="")
    print(f"（{first:%Y-%m-%d} 至 {last:%Y-%m-%d}）")
    database = args.url.rsplit("/", 1)[-1]
    version = connection.cursor().connection.info.server_version
    print(f"PostgreSQL {version}（{database}），每项取 {args.repeat} 次的中位数")
    print()

    today = selectors.local_today()
    period = {k: figures.period_for(k, today) for k in (PeriodKind.TODAY, PeriodKind.MONTH, PeriodKind.YEAR)}
    busiest_unit = (
        Case.objects.filter(lead_unit__kind="brigade").values_list("lead_unit_id", flat=True)[:1].get()
    )
    territory = selectors.territory_choices()[0][0]
    busiest_category = (
        Case.objects.filter(reported_at__gte=selectors.day_start(today.replace(month=1, day=1)))
        .values("category_id")
        .annotate(n=Count("*"))
        .order_by("-n")
        .values_list("category_id", flat=True)[:1]
        .get()
    )
    bbox = boards.district_bbox()
    assert bbox is not None, "no active grid: run the demo with its grid"
    cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    street = (cx - 0.012, cy - 0.008, cx + 0.012, cy + 0.008)  # about 2 × 2 km, zoom 16
    year, month, day = period[PeriodKind.YEAR], period[PeriodKind.MONTH], period[PeriodKind.TODAY]
    none = Filters()

    both = Filters(territory_id=territory, kind="matter", major_code="06")  # the town × major roll-up
    apart = Filters(territory_id=territory, category_id=busiest_category)  # no roll-up: read cases

    def channels(filters: Filters, period: figures.Period) -> Callable[[bool], Any]:
        return lambda s: selectors.channel_measures(filters, period, use_summary=s)

    checks: list[tuple[str, Callable[[bool], Any]]] = [
        ("今日来源（按渠道）", channels(none, day)),
        ("本月来源与结案率", channels(none, month)),
        ("本年来源与结案率", channels(none, year)),
        ("上年同期（同比，本年）", channels(none, figures.year_earlier(year))),
        ("本年 · 按镇街筛选", channels(Filters(territory_id=territory), year)),
        ("本年 · 按主办单位筛选", channels(Filters(unit_id=busiest_unit), year)),
        ("本年 · 按大类筛选（事项 06）", channels(Filters(kind="matter", major_code="06"), year)),
        ("本年 · 镇街 + 大类", channels(both, year)),
        ("本年 · 镇街 + 小类（无汇总，读案件表）", channels(apart, year)),
        ("高发类别（本年）", lambda s: selectors.category_rows(none, year, use_summary=s)),
        ("721 比例（本年）", lambda s: selectors.mode_counts(none, year, use_summary=s)),
        ("单位在办、超期与亮灯（当前）", lambda s: selectors.backlog(none)),
        ("单位处置质量 + 721（本年）", lambda s: selectors.unit_rows(none, year, use_summary=s)),
        ("近 13 个月走势（含上年同月）", lambda s: selectors.trend(none, use_summary=s)),
        ("热点 · 全区责任网格（本年，zoom 11）", lambda s: selectors.hotspots(none, year, bbox, 11)),
        ("热点 · 区域网格（本年，zoom 13）", lambda s: selectors.hotspots(none, year, bbox, 13)),
        ("热点 · 街区单元网格（本年，zoom 16）", lambda s: selectors.hotspots(none, year, street, 16)),
        ("整页：统计分析（本月）", lambda s: boards.build(none, month, use_summary=s)),
        ("整页：统计分析（本年）", lambda s: boards.build(none, year, use_summary=s)),
        ("大屏数据 data.json", lambda s: boards.bigscreen_data(use_summary=s)),
    ]  # fmt: skip
    width = max(len(name) for name, _fn in checks) + 2
    print(f"{'查询':<{width}}{'页面(汇总+当日)':>16}{'只读案件表':>14}")
    over = 0
    for name, fn in checks:
        page_ms, _ = timed(partial(fn, True), args.repeat)
        raw_ms, _ = timed(partial(fn, False), args.repeat)
        single = not name.startswith("整页") and not name.startswith("大屏")
        flag = " ✗" if single and page_ms > TARGET_MS else ""
        over += bool(flag)
        print(f"{name:<{width}}{page_ms:>13.1f} ms{raw_ms:>11.1f} ms{flag}")
    refresh_ms, _ = timed(lambda: summary.refresh_changed(), 1)
    print(f"{'刷新日汇总（无变化时）':<{width}}{refresh_ms:>13.1f} ms")
    yesterday = today - datetime.timedelta(days=1)
    one_day_ms, _ = timed(lambda: summary.refresh_days([yesterday]), 1)
    print(f"{'重算一天的日汇总':<{width}}{one_day_ms:>13.1f} ms")
    print()
    print(
        f"目标：每个查询 < {TARGET_MS:.0f} ms（整页与大屏是多个查询之和，仅供参考）。"
        + ("全部达标。" if not over else f"{over} 项超标。")
    )
    return 0 if not over else 1


if __name__ == "__main__":
    sys.exit(main())
