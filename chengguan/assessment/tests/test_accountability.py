"""Each accountability rule firing and not firing, through real runs."""

from __future__ import annotations

import datetime as dt

import pytest

from chengguan.assessment import services
from chengguan.assessment.models import AssessmentRun, Measure

from .conftest import World, at


def month_with_t1_last(w: World, month: int, *, publish: bool = True) -> AssessmentRun:
    """T1 gets one strict-management finding (99 against 100): last of the towns."""
    w.finding("S1", w.t1, at(f"2026-{month:02d}-10"))
    run = services.run_assessment("month", dt.date(2026, month, 1))
    if publish:
        services.publish(run)
    return run


def kinds(run: AssessmentRun, unit_name: str) -> list[str]:
    return sorted(Measure.objects.filter(run=run, unit__name=unit_name).values_list("kind", flat=True))


def test_zero_tolerance_finding_brings_criticism_and_double_check(world: World) -> None:
    w = world
    finding = w.finding("Z1", w.t1, at("2026-03-03"), responsible_person="张三")
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    criticism = Measure.objects.get(run=run, kind="criticism")
    assert (criticism.unit, criticism.finding, criticism.follow_up_body) == (
        w.t1,
        finding,
        "assessment_group",
    )
    assert criticism.person == "张三"
    double = {m.party: m for m in Measure.objects.filter(run=run, kind="double_check")}
    assert double["direct"].unit == w.t1
    assert double["supervisor"].unit == w.d2  # the item's supervising department
    assert double["supervisor"].follow_up_body == "discipline"


def test_no_zero_tolerance_finding_no_criticism(world: World) -> None:
    w = world
    w.finding("S1", w.t1, at("2026-03-03"))
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    assert not Measure.objects.filter(run=run, kind__in=["criticism", "double_check"]).exists()


def test_double_check_without_supervisor_names_only_the_direct_party(world: World) -> None:
    w = world
    item = w.items["Z1"]
    item.supervisor_unit = None
    item.save()
    w.finding("Z1", w.t1, at("2026-03-03"))
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    assert list(Measure.objects.filter(run=run, kind="double_check").values_list("party", flat=True)) == [
        "direct"
    ]


def test_finding_supervisor_overrides_the_item_supervisor(world: World) -> None:
    w = world
    w.finding("Z1", w.t1, at("2026-03-03"), supervisor_unit=w.d1)
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    assert Measure.objects.get(run=run, kind="double_check", party="supervisor").unit == w.d1


def test_last_place_streaks(world: World) -> None:
    w = world
    jan = month_with_t1_last(w, 1)
    assert kinds(jan, "东岭街道") == []  # once last: nothing
    feb = month_with_t1_last(w, 2)
    assert kinds(feb, "东岭街道") == ["interview"]  # twice running: 领导约谈
    mar = month_with_t1_last(w, 3)
    assert kinds(mar, "东岭街道") == ["training"]  # three times: 离岗培训
    apr = month_with_t1_last(w, 4)
    assert kinds(apr, "东岭街道") == ["reorganisation"]  # four: 组织调整
    may = month_with_t1_last(w, 5)
    assert kinds(may, "东岭街道") == ["reorganisation"]  # and further
    measure = Measure.objects.get(run=may, kind="reorganisation")
    assert measure.refs["streak"] == 5 and len(measure.refs["runs"]) == 4
    assert kinds(may, "西苑街道") == []


def test_streak_breaks_when_not_last_or_not_published(world: World) -> None:
    w = world
    month_with_t1_last(w, 1)
    services.publish(services.run_assessment("month", dt.date(2026, 2, 1)))  # February: all tied
    mar = month_with_t1_last(w, 3)
    assert kinds(mar, "东岭街道") == []  # streak is 1 again
    month_with_t1_last(w, 4, publish=False)  # April computed but not published
    w.finding("S1", w.t1, at("2026-05-10"))
    may = services.run_assessment("month", dt.date(2026, 5, 1))
    assert kinds(may, "东岭街道") == []  # only published runs count


def test_score_below_rule(world: World) -> None:
    w = world
    from chengguan.assessment.models import AccountabilityRule

    AccountabilityRule.objects.create(
        standard=w.standard,
        code="AR-09",
        name="得分低于 60 分通报",
        trigger="score_below",
        threshold=60,
        measure="criticism",
        follow_up_body="assessment_group",
    )
    inspection = w.inspection(unit=w.t1)
    for n in range(9):
        w.finding("Z1", w.t1, at("2026-03-10", f"09:{n:02d}"), inspection=inspection)
    run = services.run_assessment("month", dt.date(2026, 3, 1))  # T1: 100 − 45 = 55
    assert Measure.objects.filter(run=run, rule__code="AR-09", unit=w.t1).exists()
    assert not Measure.objects.filter(run=run, rule__code="AR-09", unit=w.t2).exists()


def test_follow_up_by_the_three_bodies(world: World) -> None:
    w = world
    w.finding("Z1", w.t1, at("2026-03-03"))
    run = services.run_assessment("month", dt.date(2026, 3, 1))
    measure = Measure.objects.get(run=run, kind="criticism")
    with pytest.raises(services.AssessmentError, match="尚未发布"):
        services.follow_up(measure, "assessment_group", "confirmed", "确认")
    services.publish(run)
    services.follow_up(measure, "assessment_group", "confirmed", "考评小组确认通报")
    services.follow_up(measure, "discipline", "in_progress", "纪检监察跟进")
    with pytest.raises(services.AssessmentError, match="不能改为"):
        services.follow_up(measure, "organisation", "proposed", "退回")
    services.follow_up(measure, "organisation", "done", "已在全区通报")
    measure.refresh_from_db()
    assert measure.status == "done"
    assert [f.body for f in measure.follow_ups.all()] == ["assessment_group", "discipline", "organisation"]
