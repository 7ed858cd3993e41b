"""What a report costs in queries, and readable codes from the daily counter.

Counting queries is not timing: these tests keep the intake path from growing per-call
lookups again (the territory, the last event number, the time limits, the counter's three
round trips) without asserting anything about speed.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chengguan.calendar.selectors import work_calendar
from chengguan.cases import services
from chengguan.cases.models import Case, DailyCounter
from chengguan.cases.tests.conftest import at
from chengguan.catalog.models import Category

MON = "2026-11-23"


def statements(captured: CaptureQueriesContext) -> list[str]:
    """The SQL sent, without transaction control (BEGIN, COMMIT, SAVEPOINT …)."""
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
    return [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(control)]


def test_a_batched_report_writes_three_statements(world) -> None:
    category = Category.objects.prefetch_related("time_limits").get(pk=world.category.pk)
    calendar = work_calendar()
    world.report(at(MON, "08:00"))  # the day's counter row exists from here on
    with CaptureQueriesContext(connection) as captured:
        case = services.report(
            services.ReportInput(
                category=category,
                description="主干道旁成堆垃圾",
                channel="patrol",
                address="东岭街道光明路 12 号",
                reporter_staff=world.staff["inspector"],
                territory=world.town,
                at=at(MON, "09:00"),
            ),
            calendar=calendar,
        )
    sql = statements(captured)
    assert len(sql) == 3, sql  # the counter, the case, its first event
    assert "cases_dailycounter" in sql[0] and "cases_case" in sql[1] and "cases_caseevent" in sql[2]
    assert case.territory_id == world.town.pk and case.deadline == at(MON, "10:00")
    assert list(case.events.values_list("seq", "action")) == [(1, "report")]


def test_codes_run_per_day_without_gaps(world) -> None:
    first = [world.report(at(MON, f"09:0{i}")).code for i in range(3)]
    assert first == ["2026112300001", "2026112300002", "2026112300003"]
    tuesday = world.report(at("2026-11-24", "00:10"))  # local day decides, not UTC
    assert tuesday.code == "2026112400001"
    late_monday = world.report(dt.datetime(2026, 11, 23, 15, 59, tzinfo=dt.UTC))  # 23:59 in Beijing
    assert late_monday.code == "2026112300004"
    assert DailyCounter.objects.get(day=dt.date(2026, 11, 23)).last == 4
    assert Case.objects.count() == 5


def test_a_refused_report_leaves_the_counter_alone(world) -> None:
    world.report(at(MON, "09:00"))
    with pytest.raises(services.CaseError, match="问题描述"):
        world.report(at(MON, "09:05"), description="   ")
    assert DailyCounter.objects.get(day=dt.date(2026, 11, 23)).last == 1
    assert world.report(at(MON, "09:10")).code == "2026112300002"
