"""The per-process caches behind report() and dispatch notice every change without a restart.

The calendar, the grid locator, a category's time limits and the routing matrix are cached in
the process; each test changes one of them the way the bureau would (its service, the admin's
save, a bulk write) and checks that the very next report or dispatch uses the new data.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chengguan.calendar.models import CalendarDay
from chengguan.calendar.services import calendar_day_save
from chengguan.cases import services
from chengguan.cases.tests.conftest import at
from chengguan.catalog.limits import LimitRow, choose_limit
from chengguan.catalog.models import TimeLimit
from chengguan.routing.models import RoutingRule

MON = "2026-11-23"


def statements(captured: CaptureQueriesContext) -> list[str]:
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
    return [q["sql"] for q in captured.captured_queries if not q["sql"].upper().startswith(control)]


def test_a_report_from_a_page_checks_its_settings_with_one_query(world) -> None:
    world.report(at(MON, "08:00"))  # warms the caches and makes the day's counter row
    with CaptureQueriesContext(connection) as captured:
        case = world.report(at(MON, "09:00"))
    sql = statements(captured)
    # the settings' markers, the counter, the case, its first event
    assert len(sql) == 4, sql
    assert "workcal_calendarrevision" in sql[0] and "catalog_timelimit" in sql[0]
    assert case.deadline == at(MON, "10:00")


def test_a_changed_time_limit_is_used_by_the_next_report(world) -> None:
    assert world.report(at(MON, "09:00")).deadline == at(MON, "10:00")  # register: 1 h
    limit = TimeLimit.objects.get(category=world.category, step="register")
    limit.hours = Decimal(3)
    limit.save()  # as the admin does
    assert world.report(at(MON, "09:00")).deadline == at(MON, "12:00")  # 3 working hours


def test_a_bulk_written_or_deleted_limit_is_seen_too(world) -> None:
    world.report(at(MON, "09:00"))
    # The catalogue's import writes with bulk_update and sets updated_at itself.
    TimeLimit.objects.filter(category=world.category, step="register").update(
        hours=Decimal(2), updated_at=timezone.now()
    )
    assert world.report(at(MON, "09:00")).step_limit_hours == Decimal(2)
    TimeLimit.objects.filter(category=world.category, step="register").delete()
    assert world.report(at(MON, "09:00")).step_limit_hours == services.FALLBACK_LIMITS["register"]
    TimeLimit.objects.create(category=world.category, step="register", area_class="B", hours=Decimal(5))
    assert world.report(at(MON, "09:00")).step_limit_hours == Decimal(5)


def test_a_new_holiday_is_used_by_the_next_report(world) -> None:
    friday = "2026-11-27"
    assert world.report(at(friday, "17:30")).deadline == at("2026-11-30", "08:30")
    calendar_day_save(day=CalendarDay(date=dt.date(2026, 11, 30), is_working_day=False, name="测试假日"))
    assert world.report(at(friday, "17:30")).deadline == at("2026-12-01", "08:30")


def test_an_activated_grid_locates_the_next_report(world, tmp_path) -> None:
    from chengguan.grid.services import import_grid
    from chengguan.grid.tests.conftest import LAT0, LON0
    from chengguan.grid.tests.test_services import sources

    point = {"lat": LAT0 + 0.0001, "lon": LON0 + 0.0001, "address": ""}
    assert world.report(at(MON, "09:00"), **point).management_grid == ""  # no grid: accepted, unlocated
    outcome = import_grid(sources(tmp_path), name="第一版")
    assert outcome.activated, outcome.report.format_text()
    located = world.report(at(MON, "09:00"), **point)
    # a two-level grid: its street and its community (the levels it has)
    assert (located.management_grid, located.responsibility_grid) == ("150402000", "150402000001")
    with pytest.raises(services.CaseError):  # and now a point outside it is refused
        world.report(at(MON, "09:00"), lat=LAT0 + 1, lon=LON0 + 1, address="")


def test_a_changed_routing_rule_is_used_by_the_next_dispatch(world) -> None:
    def dispatched(hour: str):
        case = world.report(at(MON, hour))
        world.act(case, "register", "shift_leader", at(MON, hour))
        return world.act(case, "dispatch", "dispatcher", at(MON, hour))

    assert dispatched("09:00").lead_unit == world.sanitation
    rule = RoutingRule.objects.get(category=world.category)
    rule.lead_unit = world.municipal
    rule.save()
    assert dispatched("09:10").lead_unit == world.municipal
    rule.co_handlers.add(world.town)  # a link only: the rule row itself is not saved
    case = dispatched("09:20")
    assert list(case.co_handlers.all()) == [world.town]
    rule.co_handlers.remove(world.town)
    assert list(dispatched("09:30").co_handlers.all()) == []
    RoutingRule.objects.filter(pk=rule.pk).delete()
    case = world.report(at(MON, "09:40"))
    world.act(case, "register", "shift_leader", at(MON, "09:40"))
    with pytest.raises(services.CaseError):  # no rule left: the dispatcher is told to choose
        world.act(case, "dispatch", "dispatcher", at(MON, "09:40"))


STEP_AREA = st.tuples(st.sampled_from(["", "A", "B"]), st.sampled_from(["", "ordinary", "special"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(
        st.tuples(STEP_AREA, st.one_of(st.none(), st.integers(min_value=1, max_value=40))),
        min_size=1,
        max_size=6,
    ),
    area=st.sampled_from(["A", "B", "C"]),
    kind=st.sampled_from(["ordinary", "special"]),
)
def test_the_cached_limit_always_equals_the_rows_in_the_database(world, changes, area, kind) -> None:
    """Whatever sequence of writes and deletes, each report uses the limit the rows give now."""
    for (row_area, row_kind), hours in changes:
        rows = TimeLimit.objects.filter(
            category=world.category, step="register", area_class=row_area, work_kind=row_kind
        )
        if hours is None:
            rows.delete()
        elif not rows.update(hours=Decimal(hours), updated_at=timezone.now()):
            TimeLimit.objects.create(
                category=world.category,
                step="register",
                area_class=row_area,
                work_kind=row_kind,
                hours=Decimal(hours),
            )
        truth = choose_limit(
            [
                LimitRow(*r)
                for r in TimeLimit.objects.filter(category=world.category).values_list(
                    "step", "area_class", "work_kind", "hours"
                )
            ],
            "register",
            area,
            kind,
        )
        case = world.report(at(MON, "09:00"), area_class=area, work_kind=kind)
        expected = truth.hours if truth is not None else services.FALLBACK_LIMITS["register"]
        assert case.step_limit_hours == expected
