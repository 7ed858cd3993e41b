"""Writes to the holiday rows. Each validates first, then changes rows and bumps the
calendar version in one transaction, so every process rebuilds its cached WorkCalendar."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from chengguan.calendar import selectors
from chengguan.calendar.models import CalendarDay, CalendarRevision
from chengguan.calendar.rows import (
    COLUMN_DATE,
    COLUMN_NAME,
    COLUMN_NOTE,
    COLUMN_SOURCE,
    COLUMN_WORKING,
    REQUIRED_COLUMNS,
    DayRow,
    parse_row,
)
from chengguan.core.tabular import ImportReport, Table, require_columns

_COLUMNS = {
    "date": COLUMN_DATE,
    "is_working_day": COLUMN_WORKING,
    "name": COLUMN_NAME,
    "source": COLUMN_SOURCE,
    "note": COLUMN_NOTE,
}


def _bump_version() -> None:
    """Called first inside the transaction: the row lock also serialises concurrent edits."""
    revision = CalendarRevision.objects.filter(pk=1)
    if not revision.update(version=F("version") + 1, stamp=uuid.uuid4()):
        CalendarRevision.objects.get_or_create(pk=1, defaults={"version": 0})
        revision.update(version=F("version") + 1, stamp=uuid.uuid4())


def _changed() -> None:
    # Other processes notice the new version; this one forgets at once as well.
    selectors.forget_work_calendar()


def calendar_day_save(*, day: CalendarDay) -> CalendarDay:
    """Create or change one row (the admin form's save); raises ValidationError."""
    day.full_clean()
    with transaction.atomic():
        _bump_version()
        day.save()
        _changed()
    return day


def calendar_days_delete(*, dates: Iterable[dt.date]) -> int:
    wanted = list(dates)
    with transaction.atomic():
        _bump_version()
        deleted, _ = CalendarDay.objects.filter(date__in=wanted).delete()
        _changed()
    return deleted


def _validate(table: Table, report: ImportReport) -> list[DayRow]:
    if not require_columns(table, REQUIRED_COLUMNS, report):
        return []
    rows: list[DayRow] = []
    first_line: dict[dt.date, int] = {}
    for line, raw in table.rows:
        row, errors = parse_row(line, raw)
        for column, message in errors:
            report.add(line, column, message)
        if row is None:
            continue
        if row.date in first_line:
            report.add(line, COLUMN_DATE, f"{row.date:%Y-%m-%d} 与第 {first_line[row.date]} 行重复。")
            continue
        first_line[row.date] = line
        rows.append(row)
    if not table.rows:
        report.add(0, "", "文件中没有数据行。")
    return rows


def calendar_days_import(*, table: Table, dry_run: bool = False) -> ImportReport:
    """Insert or update one row per date, all or nothing.

    Any error in any row leaves the database as it was; the report lists every error.
    Dates not in the file are left alone (a correction notice is imported as a file too).
    """
    report = ImportReport()
    rows = _validate(table, report)
    for row in rows:
        # The model's own field rules, checked before anything is written.
        candidate = CalendarDay(
            date=row.date, is_working_day=row.is_working_day, name=row.name, source=row.source, note=row.note
        )
        try:
            candidate.full_clean(validate_unique=False)
        except ValidationError as exc:
            for column, messages in exc.message_dict.items():
                for message in messages:
                    report.add(row.line, _COLUMNS.get(column, ""), message)
    if not report.ok:
        return report
    with transaction.atomic():
        _bump_version()
        existing = {
            day.date: day
            for day in CalendarDay.objects.select_for_update().filter(date__in=[row.date for row in rows])
        }
        new: list[CalendarDay] = []
        for row in rows:
            values = {
                "is_working_day": row.is_working_day,
                "name": row.name,
                "source": row.source,
                "note": row.note,
            }
            current = existing.get(row.date)
            if current is None:
                new.append(CalendarDay(date=row.date, **values))
            elif all(getattr(current, key) == value for key, value in values.items()):
                report.unchanged += 1
            else:
                for key, value in values.items():
                    setattr(current, key, value)
                current.save()
                report.updated += 1
        CalendarDay.objects.bulk_create(new)
        report.created = len(new)
        _changed()
        if dry_run:
            transaction.set_rollback(True)
    return report
