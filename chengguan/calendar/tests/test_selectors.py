"""The installation's calendar: settings + CalendarDay rows, cached per version."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.test import override_settings

from chengguan.calendar import selectors, services
from chengguan.calendar.models import CalendarDay, CalendarRevision
from chengguan.calendar.worktime import SHANGHAI, DaySource

pytestmark = pytest.mark.django_db


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_january_2027_without_data_warns_and_uses_monday_to_friday() -> None:
    calendar = selectors.work_calendar()
    deadline = calendar.deadline(at(2026, 12, 31, 16), 4)
    # 2027-01-01 is a Friday; without data it counts as a working day.
    assert deadline.due == at(2027, 1, 1, 10)
    assert deadline.warnings == ["2027 年节假日未录入，按周一至周五计算"]
    assert selectors.missing_holiday_warnings(dt.date(2026, 11, 25)) == [
        "2027 年节假日未录入，按周一至周五计算"
    ]


def test_entering_the_2027_new_year_holiday_moves_the_deadline() -> None:
    before = selectors.work_calendar()
    services.calendar_day_save(
        day=CalendarDay(date=dt.date(2027, 1, 1), is_working_day=False, name="元旦", source="测试录入")
    )
    calendar = selectors.work_calendar()
    assert calendar is not before
    deadline = calendar.deadline(at(2026, 12, 31, 16), 4)
    assert deadline.due == at(2027, 1, 4, 10)
    assert deadline.warnings == []
    assert calendar.day(dt.date(2027, 1, 1)).source == DaySource.OVERRIDE
    assert selectors.missing_holiday_warnings(dt.date(2026, 11, 25)) == []


def test_the_calendar_is_cached_until_rows_change() -> None:
    first = selectors.work_calendar()
    assert selectors.work_calendar() is first
    version = selectors.calendar_version()
    day = services.calendar_day_save(
        day=CalendarDay(date=dt.date(2026, 10, 12), is_working_day=False, name="本地休息")
    )
    assert selectors.calendar_version() == version + 1
    second = selectors.work_calendar()
    assert second is not first
    assert not second.is_working_day(dt.date(2026, 10, 12))
    assert selectors.work_calendar() is second

    day.is_working_day = True
    day.name = "本地上班"
    services.calendar_day_save(day=day)
    assert selectors.work_calendar().day(dt.date(2026, 10, 12)).name == "本地上班"

    assert services.calendar_days_delete(dates=[dt.date(2026, 10, 12)]) == 1
    third = selectors.work_calendar()
    assert third.day(dt.date(2026, 10, 12)).source == DaySource.PACKAGE
    assert selectors.calendar_version() == version + 3


def another_process_marks_off(day: dt.date) -> None:
    """What another app server's service does: change rows and bump the revision. This
    process's in-memory cache is not told directly."""
    CalendarDay.objects.create(date=day, is_working_day=False, name="别处录入")
    CalendarRevision.objects.get_or_create(pk=1)
    CalendarRevision.objects.filter(pk=1).update(version=F("version") + 1, stamp=uuid.uuid4())


def test_a_change_made_by_another_process_is_seen_through_the_version() -> None:
    assert selectors.work_calendar().is_working_day(dt.date(2026, 10, 13))
    another_process_marks_off(dt.date(2026, 10, 13))
    assert not selectors.work_calendar().is_working_day(dt.date(2026, 10, 13))


def test_a_rolled_back_change_never_survives_in_the_cache() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        services.calendar_day_save(
            day=CalendarDay(date=dt.date(2026, 10, 13), is_working_day=False, name="撤销")
        )
        # Something in the same transaction reads the calendar, which caches it.
        assert not selectors.work_calendar().is_working_day(dt.date(2026, 10, 13))
        raise RuntimeError("the transaction fails later")
    # Another server then commits a different change that reaches the same version number.
    another_process_marks_off(dt.date(2026, 10, 14))
    calendar = selectors.work_calendar()
    assert calendar.is_working_day(dt.date(2026, 10, 13))
    assert not calendar.is_working_day(dt.date(2026, 10, 14))


def test_work_periods_come_from_settings() -> None:
    with override_settings(CHENGGUAN_WORK_PERIODS="09:00-17:00"):
        calendar = selectors.work_calendar()
        assert calendar.add(at(2026, 10, 12, 16), 2) == at(2026, 10, 13, 10)
    assert selectors.work_calendar().add(at(2026, 10, 12, 16), 2) == at(2026, 10, 12, 18)


def test_a_bad_work_periods_setting_fails_the_system_check() -> None:
    with override_settings(CHENGGUAN_WORK_PERIODS="08:00-12:00,11:00-13:00"):
        errors = [message for message in run_checks() if message.id == "workcal.E001"]
    assert len(errors) == 1
    assert "重叠" in errors[0].msg
    assert not [message for message in run_checks() if message.id == "workcal.E001"]


def test_saving_an_invalid_day_changes_nothing() -> None:
    services.calendar_day_save(day=CalendarDay(date=dt.date(2027, 1, 1), is_working_day=False, name="元旦"))
    version = selectors.calendar_version()
    with pytest.raises(ValidationError):
        services.calendar_day_save(
            day=CalendarDay(date=dt.date(2027, 1, 1), is_working_day=True, name="重复")
        )
    with pytest.raises(ValidationError):
        services.calendar_day_save(day=CalendarDay(date=dt.date(2027, 1, 2), is_working_day=False, name=""))
    assert selectors.calendar_version() == version
    assert list(CalendarDay.objects.values_list("date", "name")) == [(dt.date(2027, 1, 1), "元旦")]


def test_admin_lists_edits_and_warns_about_missing_years(admin_client) -> None:  # type: ignore[no-untyped-def]
    response = admin_client.get("/admin/workcal/calendarday/")
    assert response.status_code == 200
    page = response.content.decode()
    for warning in selectors.missing_holiday_warnings():
        assert warning in page

    response = admin_client.post(
        "/admin/workcal/calendarday/add/",
        {
            "date": "2027-01-01",
            "is_working_day": "",
            "name": "元旦",
            "source": "国务院办公厅通知",
            "note": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    day = CalendarDay.objects.get(date=dt.date(2027, 1, 1))
    assert (day.is_working_day, day.name) == (False, "元旦")
    assert selectors.calendar_version() == 1
    assert not selectors.work_calendar().is_working_day(dt.date(2027, 1, 1))

    page = admin_client.get("/admin/workcal/calendarday/").content.decode()
    assert "周五" in page

    response = admin_client.post(f"/admin/workcal/calendarday/{day.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not CalendarDay.objects.exists()
    assert selectors.calendar_version() == 2
    assert selectors.work_calendar().is_working_day(dt.date(2027, 1, 1))
