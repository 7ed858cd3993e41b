"""Case intake speed and the command-centre queue at a million cases: ``python -m bench.intake``.

For SQLite (``var/bench_intake.sqlite3``) and PostgreSQL (database ``chengguan_bench`` on
127.0.0.1), each in its own process:

1. migrate, and build the demo district with its grid (skipped when it is there already);
   cases left by an earlier run are removed (these are benchmark databases only);
2. **intake**: ``--cases`` cases (default 100,000) created one by one through the domain
   service ``services.report`` — validation, grid location, deadline on the working
   calendar, readable code, first event, one transaction each. Points are drawn inside the
   demo district, categories from the whole catalogue, one case in five from a citizen
   (with private contact details). The batch reuses the working calendar and the grid
   locator, refetched every 1,000 cases; a first run of 2,000 cases shows the per-request
   path that checks both on every call. **Batch intake**: the same inputs once more through
   ``services.report_many`` in batches of 500 (as a 12345 hand-over or a camera feed
   arrives): each case gets what report() gives it, one transaction and one counter
   statement per batch, bulk inserts;
3. a share (``--dispatch-share``, default 10 %) is registered and dispatched (routing by the
   responsibility matrix) through ``services.transition``;
4. **fill**: the case table is topped up to ``--fill`` rows (default 1,000,000) by bulk
   insert straight into the table — NOT through the service, clearly a fill: three years of
   history, 93 % closed, the rest open with deadlines around now;
5. the command-centre queue's first page (``cases.selectors.command_queue``: open cases by
   deadline, 50 rows, category and lead unit joined) as the dispatcher sees it: the first
   call, then the median and worst of 20; then with each filter the page offers (status,
   light, channel, category, territory, lead unit, search, a later page): first call, median
   and worst of 5; also the overdue sweep and a duplicate lookup.

Options: ``--cases N --fill N --backend sqlite|postgres|both --workers N`` (reports taken by
N processes at once, as several app servers would); ``--queue-only`` measures step 5 alone on
the cases an earlier run left. Each rate is printed twice: per second
of wall clock, with the machine's load average beside it, and per CPU-second of this process
plus its PostgreSQL backend — the second figure is what the work costs, whatever else the
machine was doing. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("CHENGGUAN_VAR_DIR", ROOT / "var"))
PG_SERVER = os.environ.get("CHENGGUAN_BENCH_PG", "postgres://postgres@127.0.0.1:5432")
PG_DB = "chengguan_bench"
TARGETS = {
    "sqlite": f"sqlite:///{VAR / 'bench_intake.sqlite3'}",
    "postgres": f"{PG_SERVER}/{PG_DB}",
}
BATCH = 1000
INTAKE_BATCH = 500  # cases per report_many call, as `chengguan import-cases` sends them


# -- the parent: one child process per database -----------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases created through the service")
    parser.add_argument("--fill", type=int, default=1_000_000, help="total cases after the bulk fill")
    parser.add_argument("--dispatch-share", type=float, default=0.1, help="share registered and dispatched")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--workers", type=int, default=1, help="processes taking reports at once")
    parser.add_argument(
        "--queue-only", action="store_true", help="only the queue figures, on the cases already there"
    )
    parser.add_argument("--run", choices=["sqlite", "postgres"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        return run(args)
    status = 0
    for backend in ("sqlite", "postgres") if args.backend == "both" else (args.backend,):
        print(f"\n=== {backend} ===", flush=True)
        if backend == "postgres" and not _ensure_pg_database():
            continue
        env = dict(os.environ)
        env.update(
            DATABASE_URL=TARGETS[backend],
            DJANGO_SETTINGS_MODULE="chengguan.settings",
            # Production settings: no query log (DEBUG keeps every query in memory).
            CHENGGUAN_DEBUG="0",
            CHENGGUAN_SECRET_KEY=secrets.token_urlsafe(32),
            CHENGGUAN_LOG_LEVEL="ERROR",
            # Dispatch queues a notification: into a queue of the benchmark's own.
            CHENGGUAN_QUEUE="sqlite",
            CHENGGUAN_QUEUE_PATH=str(VAR / f"bench_queue_{backend}.sqlite3"),
        )
        command = [sys.executable, "-m", "bench.intake", "--run", backend, "--cases", str(args.cases)]
        command += ["--fill", str(args.fill), "--dispatch-share", str(args.dispatch_share)]
        command += ["--workers", str(args.workers)] + (["--queue-only"] if args.queue_only else [])
        status |= subprocess.call(command, env=env, cwd=ROOT)
    return status


def _ensure_pg_database() -> bool:
    import psycopg

    try:
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DB]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{PG_DB}"')
    except psycopg.OperationalError as exc:
        print(f"PostgreSQL not reachable at {PG_SERVER}: {exc}; skipped.")
        return False
    return True


# -- the child: one database ---------------------------------------------------------------------


def say(message: str) -> None:
    print(message, flush=True)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _backend_pid() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None  # SQLite runs inside this process: its work is in our own CPU time
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _cpu(backend: int | None) -> float:
    """CPU seconds used so far by this process and by its PostgreSQL backend process."""
    used = time.process_time()
    if backend is not None:
        try:
            fields = Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()
            used += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            pass  # a server on another machine: client CPU only
    return used


def measured(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall-clock seconds and CPU seconds (client + database backend) spent in ``fn``.

    On a machine shared with other work the wall clock says how busy the machine was; the
    CPU seconds say what the work itself costs, whatever else was running.
    """
    backend = _backend_pid()
    cpu = _cpu(backend)
    wall, result = timed(fn)
    return wall, _cpu(backend) - cpu, result


def rate(label: str, count: int, wall: float, cpu: float, unit: str = "cases") -> str:
    return (
        f"{label}: {count:,} {unit} in {wall:.1f}s = {count / wall:,.0f} {unit}/s "
        f"(wall clock; {machine()}); {count / cpu:,.0f} {unit} per CPU-second (client + database)"
    )


def run(args: argparse.Namespace) -> int:
    VAR.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    say(f"database: {connection.vendor} {connection.settings_dict['NAME']}; {machine()}")
    took, _ = timed(lambda: call_command("migrate", verbosity=0, interactive=False))
    say(f"migrate: {took:.1f}s")
    prepare_district()
    if args.queue_only:
        queue_figures()
        return 0
    clear_cases()
    intake(args.cases, args.workers)
    dispatch_share(int(args.cases * args.dispatch_share))
    fill(args.fill)
    queue_figures()
    say(f"done; {machine()}")
    return 0


def machine() -> str:
    """The context a figure needs: CPUs and how busy they were (other work skews every figure)."""
    one, five, _ = os.getloadavg()
    return f"{os.cpu_count()} CPUs, load average {one:.1f} (1 min) / {five:.1f} (5 min)"


def prepare_district() -> None:
    from chengguan.catalog.models import Category
    from chengguan.grid.models import GridLayer, LayerStatus

    if GridLayer.objects.filter(status=LayerStatus.ACTIVE).exists() and Category.objects.exists():
        say("demo district with grid: present")
        return
    from chengguan.core.progress import Progress
    from chengguan.demo.builder import build

    took, _ = timed(lambda: build(Progress(), with_grid=True))
    say(f"demo district with grid built: {took:.1f}s")


def clear_cases() -> None:
    """Empties the case tables, and every table that refers to them, of this benchmark
    database (never run it on a real one: nothing is ever deleted there)."""
    from django.apps import apps
    from django.db import connection

    from chengguan.cases.models import Case, DailyCounter

    doomed = {Case, DailyCounter}
    grew = True
    while grew:  # every model that (through others) points at a case
        grew = False
        for model in apps.get_models(include_auto_created=True):
            if model in doomed:
                continue
            targets = {f.related_model for f in model._meta.concrete_fields if f.is_relation}
            if targets & doomed:
                doomed.add(model)
                grew = True
    tables = sorted(m._meta.db_table for m in doomed)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} CASCADE")
        else:
            with connection.constraint_checks_disabled():
                for table in tables:
                    cursor.execute(f'DELETE FROM "{table}"')
    say(f"case tables emptied ({len(tables)} tables)")


# -- 2. intake through the domain service -----------------------------------------------------


def sample_inputs(n: int, seed: int = 20261125) -> list[Any]:
    """``n`` report inputs with points inside the district (checked with the locator)."""
    from chengguan.cases import services
    from chengguan.catalog.models import Category
    from chengguan.grid.models import GridCell
    from chengguan.grid.selectors import get_locator
    from chengguan.org.models import Staff

    rng = random.Random(seed)
    locator = get_locator()
    assert locator is not None, "the demo grid is missing"
    categories = list(Category.objects.filter(active=True).prefetch_related("time_limits"))
    patrol = list(Staff.objects.filter(role__in=["inspector", "assistant", "bicycle_assistant"])[:800])
    cells = list(GridCell.objects.filter(level=4).values_list("label_lon", "label_lat"))
    words = [
        "路边成堆垃圾",
        "井盖破损",
        "占道经营",
        "乱贴小广告",
        "路灯不亮",
        "违规停车",
        "私搭乱建",
        "绿地损毁",
    ]
    inputs: list[services.ReportInput] = []
    while len(inputs) < n:
        lon, lat = rng.choice(cells)
        lon, lat = lon + rng.uniform(-4e-4, 4e-4), lat + rng.uniform(-3e-4, 3e-4)
        found = locator.locate(lon, lat)
        if found is None or not found.found:
            continue
        staff = rng.choice(patrol)
        citizen = rng.random() < 0.2
        inputs.append(
            services.ReportInput(
                category=rng.choice(categories),
                description=f"{rng.choice(words)}，请尽快处理（编号 {len(inputs)}）",
                channel=rng.choice(["hotline", "web"]) if citizen else "patrol",
                lat=lat,
                lon=lon,
                address="",
                reporter_staff=None if citizen else staff,
                citizen=services.CitizenInfo(name="市民", phone="13900000000") if citizen else None,
                area_class=rng.choice("ABB"),
            )
        )
    return inputs


def report_all(inputs: list[Any]) -> None:
    """Creates the cases one by one; the calendar and the locator are refetched every batch."""
    from chengguan.calendar.selectors import work_calendar
    from chengguan.cases import services
    from chengguan.grid.selectors import get_locator

    for start in range(0, len(inputs), BATCH):
        calendar, locator = work_calendar(), get_locator()
        for data in inputs[start : start + BATCH]:
            services.report(data, calendar=calendar, locator=locator)


def report_batches(inputs: list[Any]) -> int:
    """Creates the cases through report_many, INTAKE_BATCH at a time; returns how many were
    refused (none should be: the inputs are valid and inside the grid)."""
    from chengguan.calendar.selectors import work_calendar
    from chengguan.cases import services
    from chengguan.grid.selectors import get_locator

    refused = 0
    for start in range(0, len(inputs), INTAKE_BATCH):
        calendar, locator = work_calendar(), get_locator()
        batch = services.report_many(inputs[start : start + INTAKE_BATCH], calendar=calendar, locator=locator)
        refused += len(batch.errors)
    return refused


def in_processes(inputs: list[Any], workers: int) -> tuple[float, float]:
    """``report_all`` split over ``workers`` processes, as several app servers would take
    reports at once; returns wall seconds and the CPU seconds of all of them."""
    import multiprocessing

    from django.db import connections

    connections.close_all()  # each process opens its own connection
    context = multiprocessing.get_context("fork")
    spent = context.Queue()

    def work(part: list[Any]) -> None:
        backend = _backend_pid()
        before = _cpu(backend)
        report_all(part)
        spent.put(_cpu(backend) - before)
        connections.close_all()

    processes = [context.Process(target=work, args=(inputs[i::workers],)) for i in range(workers)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    cpu = sum(spent.get() for _ in processes)
    for process in processes:
        process.join()
    return time.perf_counter() - started, cpu


def intake(n: int, workers: int = 1) -> None:
    from chengguan.cases import services

    took, inputs = timed(lambda: sample_inputs(n + 2000))
    say(f"inputs prepared (not timed): {len(inputs):,} in {took:.1f}s")
    cold, inputs = inputs[:2000], inputs[2000:]
    wall, cpu, _ = measured(lambda: [services.report(data) for data in cold])
    say(
        rate(
            "intake, per-request path as the pages and the API call it (settings checked with one query)",
            len(cold),
            wall,
            cpu,
        )
    )
    if workers <= 1:
        wall, cpu, _ = measured(lambda: report_all(inputs))
        say(rate("INTAKE through services.report, one process", len(inputs), wall, cpu))
    else:
        wall, cpu = in_processes(inputs, workers)
        say(rate(f"INTAKE through services.report, {workers} processes at once", len(inputs), wall, cpu))
    # The same inputs again (new cases, new codes), this time as batches arrive.
    wall, cpu, refused = measured(lambda: report_batches(inputs))
    say(
        rate(
            f"BATCH INTAKE through services.report_many, batches of {INTAKE_BATCH}, one process",
            len(inputs) - refused,
            wall,
            cpu,
        )
        + (f"; {refused} refused" if refused else "")
    )


def dispatch_share(n: int) -> None:
    from django.contrib.auth import get_user_model

    from chengguan.calendar.selectors import work_calendar
    from chengguan.cases import services
    from chengguan.cases.models import Case
    from chengguan.org.models import Staff
    from chengguan.routing.services import load_index

    if n <= 0:
        return
    users = get_user_model().objects
    leader = users.get(pk=Staff.objects.filter(role="shift_leader", user__isnull=False).values("user")[:1])
    dispatcher = users.get(pk=Staff.objects.filter(role="dispatcher", user__isnull=False).values("user")[:1])
    ids = list(Case.objects.filter(status="reported").order_by("pk").values_list("pk", flat=True)[:n])
    refused = 0

    def go() -> None:
        nonlocal refused
        for start in range(0, len(ids), BATCH):
            # A bulk dispatch loads the working calendar and the routing matrix once.
            calendar, routes = work_calendar(), load_index()
            for pk in ids[start : start + BATCH]:
                services.transition(pk, services.TransitionInput("register"), leader, calendar=calendar)
                try:
                    services.transition(
                        pk, services.TransitionInput("dispatch"), dispatcher, calendar=calendar, routes=routes
                    )
                except services.CaseError:
                    refused += 1  # no routing rule for that category and place

    wall, cpu, _ = measured(go)
    say(rate("register + dispatch through services.transition", len(ids), wall, cpu))
    say(f"  ({2 * len(ids) / wall:,.0f} transitions/s; {refused} cases without a route)")


# -- 4. the fill ---------------------------------------------------------------------------------


Sources = tuple[list[int], list[int], list[tuple[float, float, str, int]], Any]


def fill_sources() -> Sources:
    """What the fill draws from, read before the COPY starts (the connection is busy then)."""
    from chengguan.calendar.selectors import work_calendar
    from chengguan.catalog.models import Category
    from chengguan.grid.models import GridCell
    from chengguan.org.models import OrgUnit

    return (
        list(Category.objects.values_list("pk", flat=True)),
        list(OrgUnit.objects.values_list("pk", flat=True)),
        list(GridCell.objects.filter(level=4).values_list("label_lon", "label_lat", "code", "territory_id")),
        work_calendar(),
    )


def fill_rows(
    count: int,
    start_day: dt.date,
    sources: Sources,
    seed: int = 7,
) -> Iterator[dict[str, Any]]:
    from django.utils import timezone

    rng = random.Random(seed)
    categories, units, cells, calendar = sources
    now = timezone.now()
    per_day = -(-count // (3 * 365))  # rounded up: the fill ends a month before today's codes
    day, seq = start_day, 0
    open_steps = [
        ("reported", "register"),
        ("to_dispatch", "dispatch"),
        ("handling", "handle"),
        ("dispatched", "handle"),
        ("handled", "check"),
        ("checking", "check"),
    ]
    for _ in range(count):
        seq += 1
        if seq > per_day:
            day, seq = day + dt.timedelta(days=1), 1
        lon, lat, code, territory = rng.choice(cells)
        reported = dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC) + dt.timedelta(
            minutes=rng.randrange(600)
        )
        row: dict[str, Any] = {
            "code": f"{day:%Y%m%d}{seq:05d}",
            "category_id": rng.choice(categories),
            "lat": lat,
            "lon": lon,
            "territory_id": territory,
            "unit_grid": code,
            "reported_at": reported,
            "registered_at": reported,
        }
        if rng.random() < 0.93:
            row.update(
                status="closed",
                closed_at=reported + dt.timedelta(hours=rng.randrange(2, 200)),
                lead_unit_id=rng.choice(units),
                step="",
            )
        else:
            status, step = rng.choice(open_steps)
            started = now - dt.timedelta(hours=rng.uniform(0, 48))
            limit = Decimal(rng.choice([1, 2, 4, 8, 16, 40]))
            deadline = calendar.add(started, limit)  # as the service computes it
            row.update(
                status=status,
                step=step,
                step_started_at=started,
                step_limit_hours=limit,
                deadline=deadline,
                overdue_flagged=deadline < now,  # steady state: the sweep has been running
                lead_unit_id=rng.choice(units) if step in ("handle", "check") else None,
            )
        yield row


def fill(total: int) -> None:
    from django.db import connection, transaction

    from chengguan.cases.models import Case

    have = Case.objects.count()
    missing = total - have
    if missing <= 0:
        say(f"fill: not needed ({have:,} cases)")
        return
    fields = [f for f in Case._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    base = {f.attname: f.get_default() for f in fields}
    base.update(
        channel="patrol",
        description="（批量填充的历史案件）",
        status="closed",
        version=1,
        updated_at=dt.datetime.now(dt.UTC),
    )
    start_day = dt.date.today() - dt.timedelta(days=3 * 365 + 30)

    def prepped(row: dict[str, Any]) -> list[Any]:
        values = {**base, **row}
        return [f.get_db_prep_save(values[f.attname], connection) for f in fields]

    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    started = time.perf_counter()
    rows = (prepped(r) for r in fill_rows(missing, start_day, fill_sources()))
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: COPY is not part of the DB-API
            with raw.copy(f"COPY cases_case ({quoted}) FROM STDIN") as copy:
                for values in rows:
                    copy.write_row(values)
            cursor.execute("ANALYZE cases_case")
    else:
        sql = f"INSERT INTO cases_case ({quoted}) VALUES ({', '.join(['%s'] * len(columns))})"
        chunk: list[list[Any]] = []
        with connection.cursor() as cursor:
            for values in rows:
                chunk.append(values)
                if len(chunk) == 20_000:
                    with transaction.atomic():
                        cursor.executemany(sql, chunk)
                    chunk = []
            if chunk:
                with transaction.atomic():
                    cursor.executemany(sql, chunk)
            cursor.execute("ANALYZE")
    took = time.perf_counter() - started
    say(
        f"FILL (bulk insert straight into the table, not through the service): {missing:,} rows "
        f"in {took:.0f}s; "
        f"{Case.objects.count():,} cases in the database"
    )


# -- 5. the queue on a million cases ----------------------------------------------------------


def queue_filters() -> list[tuple[str, Any]]:
    """Every filter the command page offers, each with a value that has open cases."""
    from chengguan.cases import selectors
    from chengguan.cases.models import OPEN_VALUES, Case
    from chengguan.org.models import OrgUnit

    open_ = Case.objects.filter(status__in=OPEN_VALUES)
    category = open_.order_by("-pk").values_list("category_id", flat=True).first()
    territory = OrgUnit.objects.filter(kind__in=["subdistrict", "town"]).order_by("code").first()
    unit = (
        Case.objects.filter(status="handling", lead_unit__isnull=False)
        .order_by("-pk")
        .values_list("lead_unit_id", flat=True)
        .first()
    )
    F = selectors.QueueFilters
    found: list[tuple[str, Any]] = [
        ("status=reported", F(status="reported")),
        ("status=handling", F(status="handling")),
        ("status=all", F(status=selectors.ALL_FILTER)),
        ("channel=web", F(channel="web")),
        ("category", F(category_id=category)),
        ("territory", F(territory_id=territory.pk if territory else None)),
        ("lead unit", F(lead_unit_id=unit)),
        (
            "territory + red",
            F(territory_id=territory.pk if territory else None, light=selectors.LightFilter.RED),
        ),
        ("search (code prefix or address)", F(q="2026")),
        ("page 20", F(page=20)),
    ]
    found += [(f"light={light.value}", F(light=light)) for light in selectors.LightFilter]
    return found


def queue_figures() -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from chengguan.calendar.selectors import work_calendar
    from chengguan.cases import selectors, tasks
    from chengguan.cases.duplicates import likely_duplicates
    from chengguan.cases.models import Case
    from chengguan.org.models import Staff

    dispatcher = get_user_model().objects.get(
        pk=Staff.objects.filter(role="dispatcher", user__isnull=False).values("user")[:1]
    )
    viewer = selectors.viewer_of(dispatcher)
    calendar = work_calendar()
    open_count = Case.objects.filter(status__in=tasks.CLOCKED).count()

    def first_page(filters: Any = None) -> int:
        page = selectors.command_queue(viewer, filters, calendar=calendar, now=timezone.now())
        return len(page.rows)

    first, rows = timed(first_page)
    runs = [timed(first_page)[0] for _ in range(20)]
    say(
        f"command queue, first page ({rows} rows of {open_count:,} open, {Case.objects.count():,} cases): "
        f"first call {first * 1000:.1f} ms, median {statistics.median(runs) * 1000:.1f} ms, "
        f"worst {max(runs) * 1000:.1f} ms"
    )
    for label, filters in queue_filters():
        first, rows = timed(lambda f=filters: first_page(f))
        runs = [timed(lambda f=filters: first_page(f))[0] for _ in range(5)]
        say(
            f"  filter {label}: {rows} rows; first call {first * 1000:.1f} ms, "
            f"median {statistics.median(runs) * 1000:.1f} ms, worst {max(runs) * 1000:.1f} ms"
        )
    took, report = timed(lambda: tasks.sweep(timezone.now()))
    say(f"overdue sweep, first run: {took * 1000:.0f} ms ({report.as_dict()})")
    took, report = timed(lambda: tasks.sweep(timezone.now()))
    say(f"overdue sweep, steady state (the per-minute cost): {took * 1000:.0f} ms ({report.as_dict()})")
    probe = Case.objects.filter(status="reported").order_by("-pk").first()
    if probe is not None:
        runs = [timed(lambda: likely_duplicates(probe))[0] for _ in range(5)]
        say(f"likely duplicates of one case: median {statistics.median(runs) * 1000:.1f} ms")


if __name__ == "__main__":
    sys.exit(main())
