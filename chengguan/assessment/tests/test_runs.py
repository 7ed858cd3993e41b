"""Monthly runs with hand-computed expectations (March 2026 unless said otherwise)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from chengguan.assessment import services
from chengguan.assessment.models import FrozenError, Measure, Result, RunStatus

from .conftest import World, at

MARCH = dt.date(2026, 3, 1)


def score_of(run, name: str) -> Result:
    return run.results.get(name=name)


def march_cases(w: World) -> None:
    """D1: 5 cases in T1, D2: 2 cases in T2 (see each line for what it counts as)."""
    for day in ("03-02", "03-03", "03-04"):  # handled on time; two of them closed; one reworked
        w.case(
            at(f"2026-{day}"),
            lead=w.d1,
            handled=at(f"2026-{day}", "15:00"),
            on_time=True,
            closed=at(f"2026-{day}", "17:00") if day != "03-04" else None,
            rework_count=1 if day == "03-04" else 0,
        )
    w.case(at("2026-03-05"), lead=w.d1, handled=at("2026-03-09"), on_time=False)  # handled late
    # Reported on the last evening, handled after the period: at period end not handled and
    # past its handling deadline.
    w.case(
        at("2026-03-31", "22:00"),
        lead=w.d1,
        handled=at("2026-04-02"),
        on_time=True,
        handle_deadline=at("2026-03-31", "23:00"),
    )
    w.case(
        at("2026-02-27"), lead=w.d1, handled=at("2026-02-27", "12:00"), on_time=False
    )  # February: not counted
    w.case(at("2026-03-10"), lead=w.d1, registered=False)  # not registered: not counted
    for day in ("03-11", "03-12"):
        w.case(
            at(f"2026-{day}"),
            territory=w.t2,
            lead=w.d2,
            handled=at(f"2026-{day}", "11:00"),
            on_time=True,
            closed=at(f"2026-{day}", "12:00"),
        )


def test_department_and_territory_indicators_and_scores(world: World) -> None:
    march_cases(world)
    run = services.run_assessment("month", MARCH)
    d1 = score_of(run, "环卫中心")
    ind = d1.indicators
    assert ind["dispatched"]["num"] == "5"
    assert ind["handling_rate"]["value"] == "0.8000"  # 4 handled by 31 March / 5
    assert ind["on_time_rate"]["value"] == "0.6000"  # 3 / 5
    assert ind["closure_rate"]["value"] == "0.4000"  # 2 / 5
    assert ind["rework_rate"]["value"] == "0.2000"  # 1 / 5
    assert ind["overdue"]["num"] == "2"  # one handled late, one open past its deadline
    # 20 × (0.60 − 0.90) = −6.00
    assert d1.score == Decimal("94.00")
    (line,) = d1.lines.all()
    assert line.points == Decimal("-6.00")
    assert line.formula == "20 × (0.6 − 0.9) = -6"
    d2 = score_of(run, "住建局")
    assert d2.score == Decimal("102.00")  # 20 × (1 − 0.9) = +2: above 100, no cap
    assert (d2.rank, d1.rank) == (1, 2)

    t1, t2 = score_of(run, "东岭街道"), score_of(run, "西苑街道")
    assert t1.indicators["registered"]["num"] == "5"
    assert t1.indicators["closure_rate"]["value"] == "0.4000"
    assert t1.score == Decimal("95.00")  # 10 × (0.4 − 0.9) = −5
    assert t2.score == Decimal("101.00")  # 10 × (1 − 0.9) = +1
    assert t1.grade == "A" and t1.composite == Decimal("40.00")  # composite: 100 × 0.4 (weight 1)


def test_findings_with_item_cap_bonus_and_tiers(world: World) -> None:
    w = world
    w.finding("Z1", w.t1, at("2026-03-03"))
    for day in ("03-04", "03-05", "03-06"):
        w.finding("S1", w.t1, at(f"2026-{day}"))
    w.finding("B1", w.t1, at("2026-03-07"))
    w.finding("S1", w.t1, at("2026-04-01", "00:00"))  # April: not in March
    run = services.run_assessment("month", MARCH)
    t1 = score_of(run, "东岭街道")
    # 100 − 5 − 1 − 1 − 0 (item cap 2 reached) + 3 = 96
    assert (t1.base, t1.bonus, t1.penalty, t1.score) == (
        Decimal("100.00"),
        Decimal("3.00"),
        Decimal("7.00"),
        Decimal("96.00"),
    )
    lines = list(t1.lines.order_by("finding__found_at"))
    assert [line.points for line in lines] == [Decimal(-5), Decimal(-1), Decimal(-1), Decimal(0), Decimal(3)]
    assert lines[3].raw_points == Decimal(-1) and "单项封顶" in lines[3].formula
    assert all(line.finding_id for line in lines)
    assert t1.score == t1.base + sum(line.points for line in lines)


def test_scores_below_zero_and_above_hundred_are_not_capped(world: World) -> None:
    w = world
    inspection = w.inspection(unit=w.t1)
    for n in range(21):
        w.finding("Z1", w.t1, at("2026-03-10", f"{8 + n % 10:02d}:{n:02d}"), inspection=inspection)
    w.finding("B1", w.t2, at("2026-03-10"), quantity="3")
    run = services.run_assessment("month", MARCH)
    t1, t2 = score_of(run, "东岭街道"), score_of(run, "西苑街道")
    assert t1.score == Decimal("-5.00") and t1.grade == "E"  # 100 − 21 × 5
    assert t2.score == Decimal("109.00") and t2.grade == "A"  # 100 + 3 × 3
    assert (t2.rank, t1.rank) == (1, 2)


def test_ties_share_a_rank(world: World) -> None:
    w = world
    w.finding("S1", w.d1, at("2026-03-10"))
    w.finding("S1", w.d2, at("2026-03-11"))
    run = services.run_assessment("month", MARCH)
    ranks = {r.name: (r.score, r.rank) for r in run.results.filter(subject="departmental")}
    assert ranks == {"环卫中心": (Decimal("99.00"), 1), "住建局": (Decimal("99.00"), 1)}
    territorial = {r.name: r.rank for r in run.results.filter(subject="territorial")}
    assert territorial == {"东岭街道": 1, "西苑街道": 1}
    # Everyone tied: nobody is last, so no last-place measure.
    assert not Measure.objects.filter(run=run, rule__trigger="last_place").exists()


def test_posts_are_ranked_from_their_actions(world: World) -> None:
    w = world
    c1 = w.case(at("2026-03-02"), lead=w.d1)
    c2 = w.case(at("2026-03-03"), lead=w.d1)
    c3 = w.case(at("2026-03-04"), lead=w.d1)
    w.event(c1, "dispatch", at("2026-03-02", "11:00"), "dispatcher", deadline=at("2026-03-02", "12:00"))
    w.event(c2, "dispatch", at("2026-03-03", "13:00"), "dispatcher", deadline=at("2026-03-03", "12:00"))
    w.event(c3, "dispatch", at("2026-03-04", "11:00"), "dispatcher2", deadline=at("2026-03-04", "12:00"))
    w.event(c1, "return", at("2026-03-02", "15:00"), "dispatcher", data={"lead_unit": "D1"})
    run = services.run_assessment("month", MARCH)
    first, second = score_of(run, "人员2"), score_of(run, "人员3")
    assert first.indicators["dispatch_on_time_rate"]["value"] == "0.5000"
    assert first.indicators["accurate_dispatch_rate"]["value"] == "0.5000"  # c1 was returned afterwards
    assert first.score == Decimal("96.00")  # 10 × (0.5 − 0.9) = −4
    assert second.score == Decimal("101.00")  # 10 × (1 − 0.9) = +1
    assert (second.rank, first.rank) == (1, 2)
    assert first.subject == "dispatcher"


def test_rerun_makes_a_new_version_with_a_diff_and_published_runs_are_frozen(world: World) -> None:
    w = world
    w.finding("S1", w.t1, at("2026-03-03"))
    first = services.run_assessment("month", MARCH)
    services.publish(first)
    first.refresh_from_db()
    assert first.status == RunStatus.PUBLISHED

    result = first.results.get(name="东岭街道")
    result.score = Decimal(100)
    with pytest.raises(FrozenError):
        result.save()
    with pytest.raises(FrozenError):
        services.ensure_run_editable(first)
    with pytest.raises(FrozenError):
        services.discard_draft(first)
    finding = result.lines.get().finding
    with pytest.raises(FrozenError):
        services.ensure_finding_editable(finding)
    report = services.import_items(
        world.standard, "编号,层级,条目,分值\nZ9,常规,新条目,-1\n".encode(), filename="x.csv"
    )
    assert not report.ok and "复制为新版本" in str(report.errors[0])

    added = w.finding("Z1", w.t2, at("2026-03-20"))
    second = services.run_assessment("month", MARCH)
    assert (second.version, second.previous_id, second.status) == (2, first.pk, RunStatus.DRAFT)
    changes = {c["name"]: c for c in second.diff["changes"]}
    assert set(changes) == {"东岭街道", "西苑街道"}  # T1's rank changes from 2 to 1
    t2 = changes["西苑街道"]
    assert (t2["old_score"], t2["new_score"], t2["delta"]) == ("100.00", "95.00", "-5.00")
    assert (t2["old_rank"], t2["new_rank"]) == (1, 2)
    assert t2["added"] == [f"finding:{added.pk}"]
    assert changes["东岭街道"]["delta"] == "0.00" and changes["东岭街道"]["new_rank"] == 1
    assert second.diff["unchanged"] == 2  # the two departments

    first_measures = list(Measure.objects.filter(run=first, status="proposed"))
    services.publish(second)
    first.refresh_from_db()
    assert first.status == RunStatus.SUPERSEDED
    for measure in first_measures:
        measure.refresh_from_db()
        assert measure.status == "withdrawn"
    with pytest.raises(FrozenError):
        services.publish(first)


def test_copy_standard_makes_an_editable_version(world: World) -> None:
    run = services.run_assessment("month", MARCH)
    services.publish(run)
    copy = services.copy_standard(world.standard)
    assert copy.version == 2 and copy.status == "draft"
    assert copy.items.count() == 3 and copy.weights.count() == 3 and copy.rules.count() == 5
    report = services.import_items(
        copy, "编号,层级,条目,分值\nZ9,常规,新条目,-1\n".encode(), filename="x.csv"
    )
    assert report.ok and report.created == 1


def test_territory_recurrence_self_found_and_public_reports(world: World) -> None:
    w = world
    inspector = w.staff["inspector"]  # works for T1
    w.case(at("2026-03-01"), grid="G1", closed=at("2026-03-05"), reporter=inspector)  # closed early March
    w.case(at("2026-03-10"), grid="G1", reporter=inspector)  # same grid and category after it: recurred
    w.case(at("2026-03-04"), grid="G1")  # reported before that closure: not recurred
    w.case(at("2026-01-10"), grid="G3", closed=at("2026-01-15"))  # January, before 1 March − 30 days
    w.case(at("2026-03-12"), grid="G3", channel="hotline")  # so this is not a recurrence; public
    w.case(at("2026-02-20"), grid="G4", closed=at("2026-02-25"))  # within 30 days before March
    w.case(at("2026-03-02"), grid="G4", channel="web")  # recurred; public
    run = services.run_assessment("month", MARCH)
    ind = run.results.get(name="东岭街道").indicators
    assert ind["registered"]["num"] == "5"
    assert ind["recurrence_rate"]["num"] == "2" and ind["recurrence_rate"]["value"] == "0.4000"
    assert ind["self_found_share"]["num"] == "2"  # the two March patrol reports by T1's own inspector
    assert ind["public_report_rate"]["num"] == "2"
    # The explain view lists exactly the recurred cases.
    from chengguan.assessment.selectors import indicator_records

    result = run.results.get(name="东岭街道")
    records = indicator_records(result, "recurrence_rate")
    assert records is not None and (records.total, records.counted) == (5, 2)
    assert sorted(c.unit_grid for c in records.rows if c.counted) == ["G1", "G4"]
