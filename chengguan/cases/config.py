"""What ``services.report`` reads besides its input, cached per process: the working calendar,
the grid locator and the catalogue's time limits.

Each of the three has its own way of noticing a change (the calendar's revision row, the
active grid layer's id/revision/activation time, a category's limit rows' count and latest
change), and each used to cost its own query on every report. Here one query reads all three
markers at once; only when one of them moved is the snapshot rebuilt. The markers live in the
database, so a change made through any app server or worker reaches every process on its next
report, without a restart and without save signals (which bulk writes such as the catalogue
import would bypass).

Time limits are cached per category, with that category's markers read in the same query:
they are written by the catalogue's services, its import and the admin, all of which set
``updated_at`` (``bulk_update`` lists it): a new or changed row moves the latest change, a
deleted one the count.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection

from chengguan.calendar.models import CalendarRevision
from chengguan.calendar.selectors import work_calendar
from chengguan.calendar.worktime import DEFAULT_PERIODS_TEXT, WorkCalendar
from chengguan.catalog.limits import LimitRow
from chengguan.catalog.models import Category, TimeLimit
from chengguan.grid.models import GridLayer, LayerStatus


@dataclass(frozen=True)
class IntakeConfig:
    key: tuple[Any, ...]
    calendar: WorkCalendar
    locator: Any  # chengguan.grid.locator.Locator, or None without an active grid


_lock = threading.Lock()
_cached: IntakeConfig | None = None
# category id -> (its rows' marker, its rows); a category's rows are read when first needed
# and again whenever their marker moves.
_limits: dict[int, tuple[tuple[Any, ...], tuple[LimitRow, ...]]] = {}


def _marker_sql(categories: int) -> str:
    q = connection.ops.quote_name
    cal = q(CalendarRevision._meta.db_table)
    grid = q(GridLayer._meta.db_table)
    limits = q(TimeLimit._meta.db_table)
    category = q(Category._meta.db_table)
    active = f"FROM {grid} WHERE status = '{LayerStatus.ACTIVE.value}'"
    mine = f"FROM {limits} lim WHERE lim.category_id = cat.id"
    # One statement, several scalar subqueries, each on a primary key or an index: the
    # calendar's revision row, the active layer (a one-row partial unique index), and per
    # asked-for category its few limit rows (the unique key starts with the category). One
    # row per category, the calendar and grid columns repeated on each; the one-row base
    # keeps a row (category NULL) when none of the categories exists any more.
    places = ", ".join(["%s"] * categories) or "NULL"  # no category: the shared markers alone
    return (
        f"SELECT cat.id, (SELECT COUNT(*) {mine}), (SELECT MAX(updated_at) {mine}), "
        f"(SELECT version FROM {cal} WHERE id = 1), (SELECT stamp FROM {cal} WHERE id = 1), "
        f"(SELECT MAX(id) {active}), (SELECT MAX(revision) {active}), (SELECT MAX(activated_at) {active}) "
        f"FROM (SELECT 1 AS one) base LEFT JOIN {category} cat ON cat.id IN ({places})"
    )


def _markers(category_ids: Sequence[int]) -> tuple[tuple[Any, ...], dict[int, tuple[Any, ...]]]:
    """(calendar and grid markers, each category's limit-row markers): one query."""
    with connection.cursor() as cursor:
        cursor.execute(_marker_sql(len(category_ids)), list(category_ids))
        rows = cursor.fetchall()
    # The connection's alias and database name too: a test database and a benchmark database
    # in one process must not share a snapshot whose markers happen to agree.
    where = (connection.alias, connection.settings_dict.get("NAME"))
    shared = tuple(rows[0][3:])
    periods = getattr(settings, "CHENGGUAN_WORK_PERIODS", DEFAULT_PERIODS_TEXT)
    per_category = {int(row[0]): (*where, *row[1:3]) for row in rows if row[0] is not None}
    return (*where, periods, settings.TIME_ZONE, *shared), per_category


def _limit_rows(category_id: int) -> tuple[LimitRow, ...]:
    return tuple(
        LimitRow(step, area, kind, hours)
        for step, area, kind, hours in TimeLimit.objects.filter(category_id=category_id)
        .order_by()
        .values_list("step", "area_class", "work_kind", "hours")
    )


def intake_configs(category_ids: Iterable[int]) -> tuple[IntakeConfig, dict[int, tuple[LimitRow, ...]]]:
    """The calendar, the locator and each category's time-limit rows as they are now.

    One query when nothing changed, however many categories (a batch of reports asks for
    all of its categories at once); the part whose marker moved is rebuilt. Every part is read
    after its marker, so it is never older than the marker it is stored with: a change made
    meanwhile shows as a mismatch on the next call and is picked up then.
    """
    global _cached
    wanted = sorted(set(category_ids))
    key, limit_keys = _markers(wanted)
    config = _cached
    if config is None or config.key != key:
        from chengguan.grid.selectors import get_locator

        config = IntakeConfig(key=key, calendar=work_calendar(), locator=get_locator())
        with _lock:
            _cached = config
    limits: dict[int, tuple[LimitRow, ...]] = {}
    for category_id in wanted:
        limit_key = limit_keys.get(category_id, (None,))
        known = _limits.get(category_id)
        if known is not None and known[0] == limit_key:
            limits[category_id] = known[1]
            continue
        rows = _limit_rows(category_id)
        with _lock:
            _limits[category_id] = (limit_key, rows)
        limits[category_id] = rows
    return config, limits


def intake_config(category_id: int) -> tuple[IntakeConfig, tuple[LimitRow, ...]]:
    """intake_configs() for one category."""
    config, limits = intake_configs([category_id])
    return config, limits[category_id]


def forget() -> None:
    global _cached
    with _lock:
        _cached = None
        _limits.clear()
