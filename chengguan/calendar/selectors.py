"""The working calendar of this installation, built from settings and CalendarDay rows.

Built once per process and per calendar version: a read costs one primary-key query on
``CalendarRevision``. Code computing many deadlines in a loop (intake at 1,000+ cases/s)
should call :func:`work_calendar` once per batch and reuse the object, which is thread-safe.
"""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

from django.conf import settings

from chengguan.calendar.models import CalendarDay, CalendarRevision
from chengguan.calendar.worktime import DEFAULT_PERIODS_TEXT, DayOverride, WorkCalendar, fallback_warning

_lock = threading.Lock()
_cached: tuple[tuple[tuple[int, str], str, str], WorkCalendar] | None = None


def calendar_version() -> int:
    """How many times holiday rows have been changed through the services."""
    return _revision()[0]


def _revision() -> tuple[int, str]:
    row = CalendarRevision.objects.filter(pk=1).values_list("version", "stamp").first()
    return (row[0], str(row[1])) if row else (0, "")


def work_calendar() -> WorkCalendar:
    """The shared WorkCalendar, rebuilt when rows, periods or the time zone change."""
    global _cached
    periods = getattr(settings, "CHENGGUAN_WORK_PERIODS", DEFAULT_PERIODS_TEXT)
    key = (_revision(), periods, settings.TIME_ZONE)
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    overrides = {
        date: DayOverride(is_working, name)
        for date, is_working, name in CalendarDay.objects.values_list("date", "is_working_day", "name")
    }
    calendar = WorkCalendar(periods, overrides, tz=ZoneInfo(settings.TIME_ZONE))
    with _lock:
        _cached = (key, calendar)
    return calendar


def forget_work_calendar() -> None:
    global _cached
    with _lock:
        _cached = None


def missing_holiday_warnings(today: dt.date | None = None) -> list[str]:
    """Warnings for this year and next year if their holidays are not known yet."""
    today = today or dt.datetime.now(ZoneInfo(settings.TIME_ZONE)).date()
    calendar = work_calendar()
    return [fallback_warning(year) for year in (today.year, today.year + 1) if not calendar.has_data(year)]
