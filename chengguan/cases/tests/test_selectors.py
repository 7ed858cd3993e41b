"""Scoped reads: who sees which cases, the queue and its light filter, the citizen's view."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from chengguan.calendar.selectors import work_calendar
from chengguan.cases import selectors
from chengguan.cases.models import Case
from chengguan.cases.selectors import LightFilter, QueueFilters, ScopeKind
from chengguan.cases.tests.conftest import at

MON = "2026-11-23"
NOW = at(MON, "10:30")


@pytest.fixture(autouse=True)
def fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def viewer(world, who: str) -> selectors.Viewer:
    return selectors.viewer_of(world.users[who])


def test_scopes_by_post(world) -> None:
    assert viewer(world, "operator").scope is ScopeKind.DISTRICT
    assert viewer(world, "leader").scope is ScopeKind.DISTRICT
    assert viewer(world, "handler").scope is ScopeKind.UNIT
    assert viewer(world, "inspector").scope is ScopeKind.INSPECTOR
    assert selectors.viewer_of(None).scope is ScopeKind.NONE
    assert not selectors.cases_for(selectors.viewer_of(None)).exists()


def test_inspector_sees_tasks_reports_and_grid_cases(world) -> None:
    from chengguan.grid.models import GridCell, GridDuty, GridLayer

    mine = world.report(at(MON, "09:00"))
    other = world.report(
        at(MON, "09:05"), reporter_staff=world.staff["inspector2"], reporter_user=world.users["inspector2"]
    )
    task = world.report(
        at(MON, "09:06"), reporter_staff=world.staff["inspector2"], reporter_user=world.users["inspector2"]
    )
    Case.objects.filter(pk=task.pk).update(assigned_inspector=world.staff["inspector"])
    in_my_grid = world.report(
        at(MON, "09:08"), reporter_staff=world.staff["inspector2"], reporter_user=world.users["inspector2"]
    )
    Case.objects.filter(pk=in_my_grid.pk).update(responsibility_grid="150402001001")
    layer = GridLayer.objects.create(name="t", source="generated", status="active")
    cell = GridCell.objects.create(
        layer=layer, level=2, code="150402001001", name="责任网格", geometry=b"", min_lon=0, min_lat=0,
        max_lon=1, max_lat=1, label_lon=0.5, label_lat=0.5, area_m2=1,
    )  # fmt: skip
    GridDuty.objects.create(cell=cell, staff=world.staff["inspector"], role="inspector")
    seen = set(selectors.cases_for(viewer(world, "inspector")).values_list("pk", flat=True))
    assert seen == {mine.pk, task.pk, in_my_grid.pk}
    assert other.pk not in seen


def test_handler_sees_lead_and_co_handled_cases_once(world) -> None:
    case = world.report(at(MON, "09:00"))
    case = world.act(case, "register", "shift_leader", at(MON, "09:10"))
    case = world.act(case, "dispatch", "dispatcher", at(MON, "09:20"))
    case.co_handlers.add(world.municipal, world.town)
    assert list(selectors.cases_for(viewer(world, "handler"))) == [case]
    assert list(selectors.cases_for(viewer(world, "other_handler"))) == [case]
    inbox, more = selectors.unit_inbox(viewer(world, "other_handler"))
    assert inbox == [case] and more is False


def test_queue_pages_without_counting(world) -> None:
    for minute in range(5):
        world.report(at(MON, f"09:0{minute}"))
    v = viewer(world, "operator")
    cal = work_calendar()
    first = selectors.command_queue(v, QueueFilters(page=1), calendar=cal, now=NOW, page_size=2)
    last = selectors.command_queue(v, QueueFilters(page=3), calendar=cal, now=NOW, page_size=2)
    assert len(first.rows) == 2 and first.has_next and not first.has_previous
    assert len(last.rows) == 1 and not last.has_next and last.has_previous
    # most urgent deadline first
    deadlines = [r.case.deadline for r in first.rows]
    assert deadlines == sorted(deadlines)


@pytest.mark.parametrize("round_the_clock", [False, True])
def test_light_filter_agrees_with_the_light_of_each_row(world, round_the_clock: bool) -> None:
    """Clocks at many fractions of many limits: the database filter and the row light agree."""
    cal = work_calendar()
    started = at(MON, "08:00") - dt.timedelta(days=3)
    used = cal.between_hours(started, NOW, round_the_clock=round_the_clock)
    expected: dict[int, str] = {}
    n = 0
    for fraction in ("0.3", "0.79", "0.8", "0.81", "0.95", "1.0", "1.2", "3"):
        for extra in (Decimal(0), Decimal(2)):
            n += 1
            total = used / Decimal(fraction)
            limit = (total - extra).quantize(Decimal("0.01"))
            case = world.report(at(MON, "09:00"), description=f"clock {n}")
            deadline = cal.add(started, limit + extra, round_the_clock=round_the_clock)
            Case.objects.filter(pk=case.pk).update(
                step="handle",
                step_started_at=started,
                step_limit_hours=limit,
                step_extra_hours=extra,
                deadline=deadline,
                round_the_clock=round_the_clock,
                status="handling",
            )
    paused = world.report(at(MON, "09:00"), description="paused")
    Case.objects.filter(pk=paused.pk).update(
        step="handle",
        step_started_at=started,
        step_limit_hours=40,
        deadline=NOW,
        paused_at=NOW,
        status="deferred",
    )
    unclocked = world.report(at(MON, "09:00"), description="unclocked")
    Case.objects.filter(pk=unclocked.pk).update(
        step="", step_started_at=None, deadline=None, status="to_close"
    )
    v = viewer(world, "operator")
    for case in Case.objects.all():
        expected[case.pk] = selectors.light_of(case, cal, NOW)
    assert {"green", "yellow", "red"} <= set(expected.values())
    by_filter: dict[int, str] = {}
    for light in LightFilter:
        page = selectors.command_queue(v, QueueFilters(light=light), calendar=cal, now=NOW, page_size=1000)
        for row in page.rows:
            assert row.case.pk not in by_filter, "a case matched two lights"
            by_filter[row.case.pk] = light.value
    assert by_filter[paused.pk] == "paused" and by_filter[unclocked.pk] == "none"
    for pk, light in expected.items():
        if pk in (paused.pk, unclocked.pk):
            continue
        assert by_filter[pk] == light, (Case.objects.get(pk=pk).description, light, by_filter[pk])


def test_citizen_view_and_rating_once(world) -> None:
    from chengguan.cases.models import CitizenContact
    from chengguan.cases.services import CitizenInfo

    case = world.report(
        at(MON, "08:30"),
        channel="web",
        reporter_staff=None,
        reporter_user=None,
        citizen=CitizenInfo("王", "1"),
    )
    token = CitizenContact.objects.get(case=case).follow_token
    assert selectors.public_case(case.code, "nope") is None
    assert selectors.public_case("", token) is None
    seen = selectors.public_case(case.code, token)
    assert seen is not None and seen.plain_status == "已受理，等待立案" and not seen.can_rate
    assert [s.label for s in seen.steps] == ["收到您的反映"]
    case.status, case.satisfaction = "closed", None
    assert selectors.can_rate(case)
    case.satisfaction = 5
    assert not selectors.can_rate(case)


def test_category_groups(world) -> None:
    from chengguan.catalog.models import Category

    Category.objects.create(
        kind="component", code="01001", major_code="01", major_name="公用设施", name="井盖"
    )
    Category.objects.create(
        kind="matter", code="07001", major_code="07", major_name="违建", name="违法建筑", public=False
    )
    groups = selectors.category_groups()
    assert [(g.kind, g.major_code) for g in groups] == [
        ("component", "01"),
        ("matter", "06"),
        ("matter", "07"),
    ]
    assert [g.major_code for g in selectors.category_groups(public_only=True)] == ["01", "06"]
    assert [c.name for g in selectors.category_groups(search="井") for c in g.categories] == ["井盖"]
