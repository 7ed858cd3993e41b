"""The daily summary (pre-aggregation) of cases, refreshed by a command and a periodic task.

A day's rows are rebuilt in one ``INSERT … SELECT … GROUP BY`` per run of days, inside a
transaction that first deletes the old rows, so readers see either the old or the new
summary of a day, never half. :func:`refresh_changed` is what the task runs every few
minutes: it rebuilds the days whose cases changed since its last run (found through the
index on ``updated_at``) and the days that ended since (yesterday after midnight).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from chengguan.cases.models import Case
from chengguan.catalog.models import Category
from chengguan.dashboard.grains import EMPTY, GRAINS, SOURCES, Grain
from chengguan.dashboard.models import DailyCaseStat, SummaryDay, SummaryState

# Changes committed this long after their updated_at was stamped are still caught.
SAFETY_MARGIN = dt.timedelta(minutes=10)
MAX_RUN_DAYS = 31
MEASURE_COLUMNS = (
    "reported",
    "valid",
    "closed",
    "handled",
    "on_time",
    "reworked",
    "extended",
    "rated",
    "satisfied",
)
DIMENSION_COLUMNS = tuple(SOURCES)


def _tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=_tz())


def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as [first, end) runs of at most MAX_RUN_DAYS days."""
    runs: list[tuple[dt.date, dt.date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] == day and (day - runs[-1][0]).days < MAX_RUN_DAYS:
            runs[-1] = (runs[-1][0], day + dt.timedelta(days=1))
        else:
            runs.append((day, day + dt.timedelta(days=1)))
    return runs


def _insert_sql(grain: Grain) -> tuple[str, list[Any]]:
    """INSERT … SELECT … GROUP BY for one roll-up over the cases reported in [%s, %s)."""
    qn = connection.ops.quote_name
    case_table, category_table = qn(Case._meta.db_table), qn(Category._meta.db_table)
    day_sql, day_params = connection.ops.datetime_cast_date_sql("c.reported_at", (), settings.TIME_ZONE)
    counts = ", ".join(
        f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"
        for condition in (
            "c.status NOT IN ('rejected', 'voided', 'duplicate')",
            "c.status = 'closed'",
            "c.handled_on_time IS NOT NULL",
            "c.handled_on_time",
            "c.rework_count > 0",
            "c.extension_count > 0",
            "c.satisfaction IS NOT NULL",
            "c.satisfaction >= 4",
        )
    )
    dims = [SOURCES[col] if col in grain.columns else EMPTY[col] for col in DIMENSION_COLUMNS]
    # GROUP BY by position: the day (2nd) and the kept dimensions (3rd on, in column order).
    positions = [2, *(3 + i for i, col in enumerate(DIMENSION_COLUMNS) if col in grain.columns)]
    join = f" JOIN {category_table} cat ON cat.id = c.category_id" if "kind" in grain.columns else ""
    columns = ("grain", "day", *DIMENSION_COLUMNS, *MEASURE_COLUMNS)
    sql = (
        f"INSERT INTO {qn(DailyCaseStat._meta.db_table)} ({', '.join(qn(c) for c in columns)}) "
        f"SELECT %s, {day_sql}, {', '.join(dims)}, COUNT(*), {counts} "
        f"FROM {case_table} c{join} WHERE c.reported_at >= %s AND c.reported_at < %s "
        f"GROUP BY {', '.join(str(n) for n in positions)}"
    )
    return sql, [grain.name, *day_params, "{start}", "{end}"]


def refresh_days(days: Iterable[dt.date], *, now: dt.datetime | None = None) -> int:
    """Rebuild the summary of these local days; returns the number of summary rows written."""
    now = now or timezone.now()
    statements = [_insert_sql(grain) for grain in GRAINS]
    written = 0
    adapt = connection.ops.adapt_datetimefield_value
    for first, end in _runs(days):
        bounds = {"{start}": adapt(_start(first)), "{end}": adapt(_start(end))}
        with transaction.atomic(), connection.cursor() as cursor:
            DailyCaseStat.objects.filter(day__gte=first, day__lt=end).delete()
            for sql, params in statements:
                cursor.execute(sql, [bounds.get(p, p) if isinstance(p, str) else p for p in params])
                written += max(cursor.rowcount, 0)
            per_day = dict(
                DailyCaseStat.objects.filter(grain="district", day__gte=first, day__lt=end)
                .values("day")
                .annotate(n=Sum("reported"))
                .values_list("day", "n")
                .order_by()
            )
            marks = []
            day = first
            while day < end:
                marks.append(SummaryDay(day=day, refreshed_at=now, cases=per_day.get(day, 0)))
                day += dt.timedelta(days=1)
            SummaryDay.objects.bulk_create(
                marks, update_conflicts=True, unique_fields=["day"], update_fields=["refreshed_at", "cases"]
            )
    return written


def case_days() -> tuple[dt.date, dt.date] | None:
    """The first and last local day with a reported case."""
    span = Case.objects.aggregate(first=Min("reported_at"), last=Max("reported_at"))
    if span["first"] is None:
        return None
    return span["first"].astimezone(_tz()).date(), span["last"].astimezone(_tz()).date()


def refresh_summary(first: dt.date, last: dt.date, *, now: dt.datetime | None = None) -> int:
    """Rebuild every whole day from ``first`` to ``last`` that has ended (today stays live)."""
    now = now or timezone.now()
    today = now.astimezone(_tz()).date()
    last = min(last, today - dt.timedelta(days=1))
    days = [first + dt.timedelta(days=k) for k in range((last - first).days + 1)]
    written = refresh_days(days, now=now)
    state, _created = SummaryState.objects.get_or_create(pk=1)
    if state.changes_until is None:
        state.changes_until = now
        state.save(update_fields=["changes_until"])
    return written


def refresh_all(*, now: dt.datetime | None = None) -> int:
    span = case_days()
    if span is None:
        return 0
    return refresh_summary(span[0], span[1], now=now)


def refresh_changed(*, now: dt.datetime | None = None) -> tuple[int, int]:
    """The periodic refresh: days whose cases changed since the last run, and days that have
    ended since. Returns (days rebuilt, rows written)."""
    now = now or timezone.now()
    today = now.astimezone(_tz()).date()
    state, _created = SummaryState.objects.get_or_create(pk=1)
    days: set[dt.date] = set()
    if state.changes_until is not None:
        since = state.changes_until - SAFETY_MARGIN
        changed = (
            Case.objects.filter(updated_at__gte=since)
            .annotate(d=TruncDate("reported_at", tzinfo=_tz()))
            .values_list("d", flat=True)
            .distinct()
        )
        days.update(d for d in changed if d < today)
    last_done = SummaryDay.objects.aggregate(last=Max("day"))["last"]
    if last_done is not None:
        day = last_done + dt.timedelta(days=1)
        while day < today:
            days.add(day)
            day += dt.timedelta(days=1)
    elif state.changes_until is None:
        span = case_days()
        if span is not None:
            days.update(span[0] + dt.timedelta(days=k) for k in range((min(span[1], today) - span[0]).days))
    written = refresh_days(days, now=now) if days else 0
    state.changes_until = now
    state.save(update_fields=["changes_until"])
    return len(days), written
