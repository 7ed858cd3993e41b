"""Speed of one monthly assessment run: ``python -m bench.assessment [--cases N] [--findings M]``.

Builds a year (2025) of cases with their workflow events and inspection findings over 80 units
(20 towns/subdistricts, 60 departments) and about 150 post holders, bulk-inserted into its own
databases — ``var/bench_assessment.sqlite3`` and PostgreSQL ``chengguan_bench_assess`` — then
times ``run_assessment("month", 2025-06)``: every indicator family, the findings' lines, the
scores, rankings, accountability measures and the writes. A second run of the same month (a
re-run, with its diff against the first) is timed too. Each database is handled in its own
process (settings are read once per process). The data are kept and reused when the sizes
match; ``--rebuild`` forces a fresh build.

Defaults: 1,000,000 cases (≈ 5.4 million case events) and 50,000 findings; target < 5 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SQLITE_PATH = ROOT / "var" / "bench_assessment.sqlite3"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
PG_DB = "chengguan_bench_assess"
YEAR = 2025
MONTH = dt.date(YEAR, 6, 1)
TERRITORIES = 20
DEPARTMENTS = 60
GRIDS_PER_TERRITORY = 1000

CASE_COLUMNS = (
    "id",
    "code",
    "channel",
    "category_id",
    "description",
    "address",
    "territory_id",
    "unit_grid",
    "area_grid",
    "responsibility_grid",
    "management_grid",
    "area_class",
    "work_kind",
    "reporter_staff_id",
    "urgency",
    "quantity_unit",
    "tags",
    "disposition_mode",
    "lead_unit_id",
    "routing_note",
    "status",
    "step",
    "step_extra_hours",
    "handle_deadline",
    "round_the_clock",
    "supervision_level",
    "rework_count",
    "return_count",
    "extension_count",
    "overdue_flagged",
    "satisfaction",
    "reported_at",
    "registered_at",
    "dispatched_at",
    "handled_at",
    "closed_at",
    "handled_on_time",
    "version",
    "updated_at",
)
EVENT_COLUMNS = (
    "case_id",
    "seq",
    "action",
    "label",
    "actor_id",
    "actor_name",
    "actor_role",
    "from_status",
    "to_status",
    "at",
    "note",
    "deadline_before",
    "data",
)


# ---------------------------------------------------------------- driver


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the data even when the sizes match")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one database only")
    parser.add_argument("--explain", action="store_true", help="print each family's query plan")
    parser.add_argument("--worker", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.cases, args.findings, args.rebuild, args.explain)
    print(f"考评月度计算基准：{args.cases:,} 件案件、{args.findings:,} 条检查发现、80 个单位，{MONTH:%Y-%m}")
    status = 0
    for target in ("sqlite", "postgres"):
        if args.only and target != args.only:
            continue
        env = dict(os.environ)
        if target == "sqlite":
            SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
            env["DATABASE_URL"] = f"sqlite:///{SQLITE_PATH}"
        else:
            from chengguan.testing import postgres_reachable

            ok, reason = postgres_reachable(PG_SERVER)
            if not ok:
                print(f"PostgreSQL 不可用，跳过：{reason}")
                continue
            env["DATABASE_URL"] = PG_SERVER.rsplit("/", 1)[0] + f"/{PG_DB}"
            if args.rebuild or not _pg_exists():
                _pg_recreate()
        command = [sys.executable, "-m", "bench.assessment", "--worker", target]
        command += ["--cases", str(args.cases), "--findings", str(args.findings)]
        if args.rebuild:
            command.append("--rebuild")
        if args.explain:
            command.append("--explain")
        status |= subprocess.call(command, env=env, cwd=ROOT)
    return status


def _pg_admin() -> Any:
    import psycopg

    return psycopg.connect(PG_SERVER, autocommit=True)


def _pg_exists() -> bool:
    with _pg_admin() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DB]).fetchone() is not None


def _pg_recreate() -> None:
    """An empty bench database: a fresh schema when it exists (no DROP DATABASE), else created."""
    import psycopg

    if _pg_exists():
        try:
            with psycopg.connect(PG_SERVER.rsplit("/", 1)[0] + f"/{PG_DB}", autocommit=True) as conn:
                conn.execute("DROP SCHEMA public CASCADE")
                conn.execute("CREATE SCHEMA public")
            return
        except psycopg.OperationalError:  # e.g. left invalid by an interrupted DROP DATABASE
            with _pg_admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{PG_DB}"')
    with _pg_admin() as conn:
        conn.execute(f'CREATE DATABASE "{PG_DB}"')


# ---------------------------------------------------------------- worker (one database)


def worker(target: str, cases: int, findings: int, rebuild: bool, explain: bool = False) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chengguan.settings")
    if target == "sqlite" and rebuild and SQLITE_PATH.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(f"{SQLITE_PATH}{suffix}").unlink(missing_ok=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from chengguan.assessment.models import Finding
    from chengguan.cases.models import Case

    label = "SQLite" if target == "sqlite" else "PostgreSQL"
    if Case.objects.count() != cases or Finding.objects.count() != findings:
        if Case.objects.exists():
            print(f"[{label}] 数据规模不同，请加 --rebuild 重建（或删除 {SQLITE_PATH}）")
            return 2
        started = time.perf_counter()
        counts = build(cases, findings, target)
        print(
            f"[{label}] 生成数据：案件 {counts['cases']:,}、流转记录 {counts['events']:,}、"
            f"检查发现 {counts['findings']:,}（{time.perf_counter() - started:.1f}s）"
        )
    from chengguan.assessment import services
    from chengguan.assessment.models import Result, ScoreLine

    timings = []
    for attempt in ("计算", "再次计算（新版本 + 与上一版本的差异）"):
        load = os.getloadavg()[0]
        server = _server_cpu()
        started, cpu = time.perf_counter(), time.process_time()
        run = services.run_assessment("month", MONTH, note=f"bench {attempt}")
        took, used = time.perf_counter() - started, time.process_time() - cpu
        server_used = _server_cpu() - server if server >= 0 else -1.0
        timings.append(took)
        results = Result.objects.filter(run=run).count()
        lines = ScoreLine.objects.filter(result__run=run).count()
        measures = run.measures.count()
        diff = f"，差异 {len(run.diff.get('changes', []))} 项" if run.diff else ""
        print(
            f"[{label}] {attempt} v{run.version}：{took:.2f}s（本进程 CPU {used:.2f}s，"
            + (f"数据库后端 CPU {server_used:.2f}s，" if server_used >= 0 else "")
            + f"机器负载 {load:.1f}；{results} 个得分、{lines:,} 条明细、{measures} 项追责措施{diff}）"
        )
    verdict = "达标" if max(timings) < 5 else "未达标"
    print(f"[{label}] 目标 < 5 s：{verdict}")
    breakdown(label, explain)
    return 0


def _server_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend (from /proc, when on this machine).

    On a shared machine the wall clock says little; the backend's CPU is the work the database
    did for us (parallel workers, when PostgreSQL starts any, are not included). −1 elsewhere.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return -1.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# Each indicator family is one set-based query bounded to the month by an index; the breakdown
# times them one by one (outside a run) so a slow family shows up by name.
FAMILIES: tuple[tuple[str, str], ...] = (
    ("departmental", "部门：派遣数、处置率、按期处置率、结案率、返工率、延期率、超期数、满意率"),
    ("territorial", "镇街：立案数、每网格/每平方公里立案数、结案率、按期处置率、自查发现占比、监督举报率"),
    ("recurrence", "镇街：复发率（同网格同类问题结案后再次立案）"),
    ("inspector", "监督员：上报数、有效上报率"),
    ("posts", "岗位：核实、核查、派发、立案、结案次数及按时率（准确立案率）"),
    ("unit_events", "派遣与回退：回退率（部门）、派遣数、按时派遣率、准确派遣率（派遣员）"),
    ("grids", "网格数与辖区面积"),
    ("findings", "检查发现（扣分、加分明细与追责）"),
)


def breakdown(label: str, explain: bool) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from chengguan.assessment import selectors
    from chengguan.assessment.periods import Period

    w = selectors.Window.of(Period.of("month", MONTH), 30)
    calls = {
        "departmental": lambda: selectors.case_counts("departmental", w),
        "territorial": lambda: selectors.case_counts("territorial", w),
        "recurrence": lambda: selectors.recurrence_counts(w),
        "inspector": lambda: selectors.case_counts("inspector", w),
        "posts": lambda: selectors.event_counts(w),
        "unit_events": lambda: selectors.unit_event_counts(w),
        "grids": lambda: selectors.grid_counts(),
        "findings": lambda: selectors.findings_in(w),
    }
    print(f"[{label}] 分项耗时（每项一条或几条按月份索引范围的集合查询）：")
    for key, text in FAMILIES:
        started, cpu = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as queries:
            calls[key]()
        took, used = time.perf_counter() - started, time.process_time() - cpu
        note = {"posts": "（含下一行的派遣与回退）", "territorial": "（含下一行的复发率）"}.get(key, "")
        print(f"    {took:5.2f}s（CPU {used:4.2f}s，{len(queries)} 条查询）{text}{note}")
        if explain:
            _explain(connection, queries.captured_queries)


def _explain(connection: Any, queries: list[dict[str, str]]) -> None:
    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    for query in queries:
        with connection.cursor() as cursor:
            cursor.execute(prefix + query["sql"])
            for row in cursor.fetchall():
                print(f"        {row[-1]}")


def build(n_cases: int, n_findings: int, target: str) -> dict[str, int]:
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    from chengguan.assessment.demo import load_sample_standard
    from chengguan.assessment.models import Finding, Inspection, StandardItem
    from chengguan.catalog.models import Category
    from chengguan.org.models import OrgUnit, Staff

    rng = random.Random(20250601)
    with transaction.atomic():
        bureau = OrgUnit.objects.create(code="BUR", name="基准区综合执法局", kind="bureau")
        territories = OrgUnit.objects.bulk_create(
            [
                OrgUnit(code=f"T{i:02d}", name=f"基准街道{i:02d}", kind="subdistrict" if i < 17 else "town")
                for i in range(1, TERRITORIES + 1)
            ]
        )
        departments = OrgUnit.objects.bulk_create(
            [
                OrgUnit(code=f"D{i:02d}", name=f"基准部门{i:02d}", kind="department")
                for i in range(1, DEPARTMENTS + 1)
            ]
        )
        categories = Category.objects.bulk_create(
            [
                Category(
                    kind="matter",
                    code=f"06{i:03d}",
                    major_code="06",
                    major_name="市容环境",
                    name=f"基准类别{i}",
                )
                for i in range(1, 21)
            ]
        )
        posts: dict[str, list[Staff]] = {}
        plan = [("inspector", t, 6) for t in territories] + [
            ("operator", bureau, 6),
            ("shift_leader", bureau, 3),
            ("dispatcher", bureau, 6),
        ]
        serial = 0
        for role, unit, count in plan:
            for _ in range(count):
                serial += 1
                user = User.objects.create(username=f"bench{serial:04d}")
                staff = Staff.objects.create(
                    code=f"BS{serial:04d}", name=f"人员{serial:04d}", role=role, unit=unit, user=user
                )
                posts.setdefault(role, []).append(staff)
        load_sample_standard()
    inspectors_of = {t.pk: [s for s in posts["inspector"] if s.unit_id == t.pk] for t in territories}
    t_ids = [t.pk for t in territories]
    d_ids = [d.pk for d in departments]
    d_codes = {d.pk: d.code for d in departments}
    c_ids = [c.pk for c in categories]
    leaders = [s.user_id for s in posts["shift_leader"]]
    dispatchers = [s.user_id for s in posts["dispatcher"]]
    operators = [s.user_id for s in posts["operator"]]

    start = dt.datetime(YEAR, 1, 1, tzinfo=dt.UTC)
    minutes = 366 * 24 * 60 + 60 * 24 * 30
    if target == "sqlite":
        stamps: list[Any] = [
            (start + dt.timedelta(minutes=m)).strftime("%Y-%m-%d %H:%M:%S") for m in range(minutes)
        ]
    else:
        stamps = [start + dt.timedelta(minutes=m) for m in range(minutes)]
    year_minutes = 365 * 24 * 60

    def stamp(m: int | None) -> Any:
        return None if m is None else stamps[m]

    case_rows: list[tuple[Any, ...]] = []
    event_rows: list[tuple[Any, ...]] = []
    events = 0
    case_id_base = 1

    def flush_cases() -> None:
        _insert(connection, target, "cases_case", CASE_COLUMNS, case_rows)
        case_rows.clear()

    def flush_events() -> None:
        _insert(connection, target, "cases_caseevent", EVENT_COLUMNS, event_rows)
        event_rows.clear()

    if target == "sqlite":
        with connection.cursor() as cursor:  # a throw-away bench file: speed over durability
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")
    # Cases get their ids in the order they were reported, as in production.
    reported_times = sorted(rng.randrange(year_minutes) for _ in range(n_cases))
    with transaction.atomic():
        for i, reported in enumerate(reported_times):
            case_id = case_id_base + i
            territory = rng.choice(t_ids)
            public = rng.random() < 0.25
            reporter = None if public else rng.choice(inspectors_of[territory]).pk
            registered = reported + rng.randrange(5, 70) if rng.random() < 0.92 else None
            lead = rng.choice(d_ids) if registered is not None else None
            dispatched = registered + rng.randrange(5, 90) if registered is not None else None
            deadline = dispatched + 3 * 24 * 60 if dispatched is not None else None
            handled = (
                dispatched + rng.randrange(30, 5 * 24 * 60)
                if dispatched is not None and rng.random() < 0.93
                else None
            )
            on_time = None if handled is None else handled <= deadline  # type: ignore[operator]
            closed = (
                handled + rng.randrange(60, 24 * 60) if handled is not None and rng.random() < 0.9 else None
            )
            rework = 1 if handled is not None and rng.random() < 0.05 else 0
            returned = 1 if dispatched is not None and rng.random() < 0.03 else 0
            extended = 1 if handled is not None and rng.random() < 0.03 else 0
            satisfaction = rng.randint(1, 5) if public and closed is not None and rng.random() < 0.6 else None
            status = (
                "closed"
                if closed is not None
                else ("handled" if handled is not None else ("handling" if dispatched else "rejected"))
            )
            grid = f"G{territory:03d}{rng.randrange(GRIDS_PER_TERRITORY):04d}"
            case_rows.append(
                (
                    case_id,
                    f"B{case_id:09d}",
                    rng.choice(("web", "hotline")) if public else "patrol",
                    rng.choice(c_ids),
                    "基准案件",
                    "",
                    territory,
                    grid,
                    "",
                    "",
                    "",
                    "B",
                    "ordinary",
                    reporter,
                    "normal",
                    "",
                    "[]",
                    "service",
                    lead,
                    "",
                    status,
                    "",
                    0,
                    stamp(deadline),
                    False,
                    0,
                    rework,
                    returned,
                    extended,
                    False,
                    satisfaction,
                    stamp(reported),
                    stamp(registered),
                    stamp(dispatched),
                    stamp(handled),
                    stamp(closed),
                    on_time,
                    1,
                    stamp(closed or handled or reported),
                )
            )
            steps: list[tuple[str, int | None, int, int | None, str]] = []

            event = _recorder(steps)

            if public:
                event("send_verify", rng.choice(operators), reported + 5, reported + 60)
                inspector = rng.choice(inspectors_of[territory]).user_id
                event("confirm", inspector, reported + rng.randrange(20, 180), reported + 120)
            if registered is not None and dispatched is not None:
                event("register", rng.choice(leaders), registered, reported + 60)
                unit_data = json.dumps({"lead_unit": d_codes[lead]})  # type: ignore[index]
                event("dispatch", rng.choice(dispatchers), dispatched, registered + 60, unit_data)
                if returned:
                    event("return", None, dispatched + 30, None, unit_data)
                    event("dispatch", rng.choice(dispatchers), dispatched + 60, dispatched + 90, unit_data)
                if handled is not None:
                    event("send_check", rng.choice(operators), handled + 10, handled + 60)
                    inspector = rng.choice(inspectors_of[territory]).user_id
                    event("check_pass", inspector, handled + rng.randrange(30, 300), handled + 240)
                if closed is not None:
                    event("close", rng.choice(leaders), closed, None)
            for seq, (action, actor, at, due, data) in enumerate(steps, start=1):
                event_rows.append(
                    (case_id, seq, action, action, actor, "", "", "", status, stamp(at), "", stamp(due), data)
                )
            events += len(steps)
            if len(case_rows) >= 20_000:
                flush_cases()
                flush_events()
        flush_cases()
        flush_events()
        if target == "postgres":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('cases_case', 'id'), "
                    "(SELECT MAX(id) FROM cases_case))"
                )

        items = list(StandardItem.objects.filter(standard__code="sample"))
        all_units = territories + departments
        inspections = []
        per_inspection = 10
        modes = ("daily", "self", "cross", "special", "follow_up")
        for n in range(max(1, n_findings // per_inspection)):
            unit = rng.choice(all_units)
            mode = rng.choice(modes[:4])
            inspecting = (
                unit
                if mode == "self"
                else (rng.choice(territories) if unit in territories and mode == "cross" else bureau)
            )
            if mode == "cross" and inspecting == unit:
                mode = "daily"
                inspecting = bureau
            day = start.date() + dt.timedelta(days=rng.randrange(365))
            inspections.append(
                Inspection(
                    mode=mode, title=f"基准检查{n}", inspecting_unit=inspecting, inspected_unit=unit, date=day
                )
            )
        inspections = Inspection.objects.bulk_create(inspections, batch_size=2000)
        found: list[Finding] = []
        for n in range(n_findings):
            inspection = inspections[n // per_inspection % len(inspections)]
            assert inspection.inspected_unit is not None
            territorial = inspection.inspected_unit.kind != "department"
            candidates = [i for i in items if i.track == "both" or (i.track == "territorial") == territorial]
            item = rng.choice(candidates)
            when = dt.datetime.combine(inspection.date, dt.time(9), tzinfo=dt.UTC) + dt.timedelta(
                minutes=rng.randrange(600)
            )
            found.append(
                Finding(
                    inspection=inspection,
                    item=item,
                    unit=inspection.inspected_unit,
                    quantity=rng.choice((1, 1, 1, 2, 3)),
                    found_at=when,
                    description="基准问题",
                )
            )
        Finding.objects.bulk_create(found, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"cases": n_cases, "events": events, "findings": len(found)}


def _recorder(steps: list[tuple[str, int | None, int, int | None, str]]) -> Any:
    def event(action: str, actor: int | None, at: int, due: int | None, data: str = "{}") -> None:
        steps.append((action, actor, at, due, data))

    return event


def _insert(
    connection: Any, target: str, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    if target == "sqlite":
        marks = ", ".join("?" for _ in columns)
        connection.ensure_connection()
        raw = connection.connection
        raw.executemany(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        return
    with connection.cursor() as cursor:
        raw_cursor = cursor.cursor
        with raw_cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


if __name__ == "__main__":
    raise SystemExit(main())
