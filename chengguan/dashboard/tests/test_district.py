"""The simulated district: valid workflow paths, realistic shape, determinism; and the
dashboard's figures checked against the same figures computed here from the case rows."""

from __future__ import annotations

import datetime as dt
import io
import json
import random
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from openpyxl import load_workbook

from chengguan.cases.models import PUBLIC_CHANNELS, Case, CaseEvent
from chengguan.cases.workflow import BY_ACTION, FINAL, STEP_OF_STATUS, Status
from chengguan.dashboard import board as boards
from chengguan.dashboard import figures, selectors, summary
from chengguan.dashboard.figures import Period, PeriodKind
from chengguan.dashboard.models import DailyCaseStat, SummaryDay
from chengguan.dashboard.selectors import Filters
from chengguan.dashboard.tests.conftest import SH, District
from chengguan.grid.models import GridCell, LayerStatus

pytestmark = pytest.mark.django_db

INVALID = {"rejected", "voided", "duplicate"}
PUBLIC = {c.value for c in PUBLIC_CHANNELS}


# -- the event chains ----------------------------------------------------------------------------


def check_chain(case: Case, events: list[CaseEvent]) -> None:
    """Every event is a transition of the workflow table from the state the previous one left."""
    assert events, case.code
    first = events[0]
    assert (first.action, first.from_status) in {("report", ""), ("self_handle", "")}, case.code
    assert first.to_status == (Status.SELF_HANDLED if first.action == "self_handle" else Status.REPORTED)
    assert first.at == case.reported_at
    status = first.to_status
    counts: Counter[str] = Counter()
    lead_code = None
    for previous, event in pairwise(events):
        assert event.seq == previous.seq + 1, case.code
        assert event.at >= previous.at, case.code
        transition = BY_ACTION.get(event.action)
        assert transition is not None, f"{case.code}: unknown action {event.action}"
        assert event.from_status == status, (
            f"{case.code}: {event.action} from {event.from_status}, was {status}"
        )
        assert Status(status) in transition.sources, f"{case.code}: {event.action} not allowed from {status}"
        expected = transition.target or Status(status)
        assert event.to_status == expected, f"{case.code}: {event.action} led to {event.to_status}"
        if transition.needs_note:
            assert event.note.strip(), f"{case.code}: {event.action} without a note"
        if event.action == "dispatch":
            lead_code = event.data["lead_unit"]
        counts[event.action] += 1
        status = event.to_status
    assert case.status == status, case.code
    assert case.version == len(events)
    assert case.rework_count == counts["check_fail"]
    assert case.extension_count == counts["approve_extension"]
    assert case.return_count == counts["return"]
    assert case.supervision_level == counts["supervise"]
    assert (case.closed_at is not None) == (status == Status.CLOSED)
    if counts["dispatch"]:
        assert case.lead_unit is not None and case.lead_unit.code == lead_code
    if STEP_OF_STATUS[Status(status)] is None or status in FINAL:
        assert case.deadline is None or status == Status.DEFERRED
    if counts["report_back"]:
        backs = [e for e in events if e.action == "report_back"]
        assert case.handled_on_time == (
            backs[-1].deadline_before is None or backs[-1].at <= backs[-1].deadline_before
        )


def test_simulated_event_chains_follow_the_workflow(sim_district: District) -> None:
    ids = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    rng = random.Random(7)
    sample = set(rng.sample(ids, 400))
    # Every case that took a rare branch is checked as well.
    rare = {"return", "approve_extension", "deny_extension", "approve_deferral", "resume", "check_fail",
            "mark_duplicate", "deny", "reject", "approve_void", "refuse_self_handling", "rate"}  # fmt: skip
    for action in rare:
        found = list(CaseEvent.objects.filter(action=action).values_list("case_id", flat=True)[:40])
        assert found, f"the simulation never took {action}"
        sample.update(found)
    cases = Case.objects.filter(pk__in=sample).select_related("lead_unit")
    events: dict[int, list[CaseEvent]] = {}
    for event in CaseEvent.objects.filter(case_id__in=sample).order_by("case_id", "seq"):
        events.setdefault(event.case_id, []).append(event)
    for case in cases:
        check_chain(case, events[case.pk])


def test_simulated_history_looks_like_a_district(sim_district: District) -> None:
    rows = list(Case.objects.values("channel", "status", "category__kind", "handled_on_time", "reported_at"))
    assert len(rows) == sim_district.cases
    channels = Counter(r["channel"] for r in rows)
    assert channels.most_common(1)[0][0] == "patrol" and channels["patrol"] / len(rows) > 0.5
    complaints = sum(n for c, n in channels.items() if c in PUBLIC) / len(rows)
    assert 0.15 <= complaints <= 0.25
    kinds = Counter(r["category__kind"] for r in rows)
    assert 20 <= kinds["matter"] / kinds["component"] <= 45

    def closure(select: set[str]) -> float:
        valid = [r for r in rows if r["channel"] in select and r["status"] not in INVALID]
        return sum(r["status"] == "closed" for r in valid) / len(valid)

    assert 0.96 <= closure({"patrol"}) <= 0.995
    assert 0.89 <= closure(PUBLIC) <= 0.965
    assert closure(PUBLIC) < closure({"patrol"})
    handled = [r["handled_on_time"] for r in rows if r["handled_on_time"] is not None]
    assert 0.8 <= sum(handled) / len(handled) <= 0.98
    # Rest days bring fewer reports than working days.
    weekday = Counter(r["reported_at"].astimezone(SH).weekday() for r in rows)
    assert weekday[6] < weekday[2]
    # Some units are clearly slower than others.
    by_unit: dict[int, list[bool]] = {}
    for unit, on_time in Case.objects.filter(handled_on_time__isnull=False).values_list(
        "lead_unit", "handled_on_time"
    ):
        by_unit.setdefault(unit, []).append(on_time)
    rates = sorted(sum(v) / len(v) for v in by_unit.values() if len(v) >= 40)
    assert rates[-1] - rates[0] > 0.1


def test_simulated_places_are_real_grid_cells(sim_district: District) -> None:
    from chengguan.grid.selectors import locate

    cells = dict(
        GridCell.objects.filter(layer__status=LayerStatus.ACTIVE, level=4).values_list("code", "territory_id")
    )
    rows = list(Case.objects.values_list("unit_grid", "territory_id", "lat", "lon", "area_grid"))
    assert all(code in cells and cells[code] == territory for code, territory, *_ in rows)
    for code, territory, lat, lon, area in random.Random(3).sample(rows, 200):
        found = locate(lon, lat)
        assert found is not None and found.unit is not None and found.unit.code == code
        assert found.area is not None and found.area.code == area and found.territory_id == territory


COMPARED = (
    "id", "code", "status", "channel", "category_id", "unit_grid", "lead_unit_id", "reported_at", "closed_at",
    "deadline",
)  # fmt: skip


def test_generation_is_deterministic_and_stored_as_generated(sim_district: District) -> None:
    import numpy as np

    from chengguan.calendar.selectors import work_calendar
    from chengguan.dashboard import simulation as sim

    stored = list(Case.objects.order_by("pk").values_list("pk", *COMPARED[1:]))
    column = {name: i for i, name in enumerate(sim.CASE_COLUMNS)}
    ids = iter([row[0] for row in stored])
    days: Counter[dt.date] = Counter()

    def code_for(at: dt.datetime) -> str:
        day = at.astimezone(SH).date()
        days[day] += 1
        return f"{day:%Y%m%d}{days[day]:05d}"

    def reserve(n: int) -> list[int]:
        return [next(ids) for _ in range(n)]

    ctx = sim.load_context(work_calendar(), sim_district.seed)
    end = sim_district.end
    first_day = end.astimezone(SH).date() - dt.timedelta(days=round(365.25 * 2) - 1)
    intake = sim.plan_intake(
        ctx,
        sim_district.cases,
        first_day,
        end,
        np.random.default_rng(sim.stable_int(sim_district.seed, 0, "intake")),
    )
    again = []
    events = 0
    for generated in sim.iter_batches(ctx, intake, reserve, code_for, sim_district.seed, 0, end, 1000):
        for row in generated.cases:
            again.append(tuple(row[column[k]] for k in COMPARED))
        events += len(generated.events)
    assert again == stored
    assert events == CaseEvent.objects.count()


def test_same_seed_changes_nothing_and_append_adds_a_batch(sim_district: District) -> None:
    from chengguan.core.progress import Progress
    from chengguan.dashboard.services import simulate

    before = Case.objects.count()
    again = simulate(
        cases=50, years=1, seed=sim_district.seed, end=sim_district.end, progress=Progress(io.StringIO())
    )
    assert not again.created and "未做修改" in again.message
    assert Case.objects.count() == before
    more = simulate(
        cases=50,
        years=1,
        seed=sim_district.seed,
        end=sim_district.end,
        append=True,
        progress=Progress(io.StringIO()),
    )
    assert more.created and more.run.batch == 1
    assert Case.objects.count() == before + 50
    codes = list(Case.objects.values_list("code", flat=True))
    assert len(codes) == len(set(codes))


# -- figures against independent computation -------------------------------------------------------


def case_rows() -> list[dict[str, Any]]:
    return list(
        Case.objects.values(
            "reported_at", "status", "channel", "handled_on_time", "territory_id", "lead_unit_id",
            "category_id", "category__kind", "category__major_code", "rework_count", "satisfaction",
            "disposition_mode", "deadline", "paused_at",
        )
    )  # fmt: skip


def in_period(rows: Iterable[dict[str, Any]], period: Period) -> list[dict[str, Any]]:
    return [r for r in rows if period.start <= r["reported_at"].astimezone(SH).date() < period.end]


def closure_rate(rows: list[dict[str, Any]]) -> float | None:
    valid = [r for r in rows if r["status"] not in INVALID]
    return 100 * sum(r["status"] == "closed" for r in valid) / len(valid) if valid else None


def on_time_rate(rows: list[dict[str, Any]]) -> float | None:
    handled = [r for r in rows if r["handled_on_time"] is not None]
    return 100 * sum(r["handled_on_time"] for r in handled) / len(handled) if handled else None


def matches(row: dict[str, Any], f: Filters) -> bool:
    return (
        (f.territory_id is None or row["territory_id"] == f.territory_id)
        and (f.unit_id is None or row["lead_unit_id"] == f.unit_id)
        and (f.category_id is None or row["category_id"] == f.category_id)
        and (f.kind is None or row["category__kind"] == f.kind)
        and (f.major_code is None or row["category__major_code"] == f.major_code)
    )


def some_filters() -> list[Filters]:
    busiest_unit = Counter(
        Case.objects.exclude(lead_unit=None).values_list("lead_unit_id", flat=True)
    ).most_common(1)[0][0]
    busiest_category = Counter(Case.objects.values_list("category_id", flat=True)).most_common(1)[0][0]
    territory = Case.objects.values_list("territory_id", flat=True).first()
    return [
        Filters(),
        Filters(territory_id=territory),
        Filters(unit_id=busiest_unit),
        Filters(category_id=busiest_category),
        Filters(kind="matter", major_code="06"),
        Filters(territory_id=territory, kind="matter"),
    ]


def periods(end: dt.datetime) -> list[Period]:
    today = end.astimezone(SH).date()
    return [
        figures.period_for(PeriodKind.MONTH, today),
        figures.period_for(PeriodKind.QUARTER, today),
        figures.period_for(PeriodKind.YEAR, today),
        figures.period_for(PeriodKind.TODAY, today),
        figures.period_for(PeriodKind.CUSTOM, today, dt.date(2025, 7, 14), dt.date(2026, 2, 3)),
    ]


@pytest.mark.parametrize("use_summary", [False, True], ids=["from-cases", "from-summary"])
def test_dashboard_figures_equal_figures_from_case_rows(sim_district: District, use_summary: bool) -> None:
    if use_summary:
        summary.refresh_all(now=sim_district.end)
        assert SummaryDay.objects.exists() and DailyCaseStat.objects.exists()
    rows = case_rows()
    now = sim_district.end
    for f in some_filters():
        mine = [r for r in rows if matches(r, f)]
        for period in periods(now):
            board = boards.build(f, period, now=now, use_summary=use_summary)
            here = in_period(mine, period)
            last_year = in_period(mine, figures.year_earlier(period))
            c = board.comparison
            label = f"{f} {period.label}"
            assert c["all"].current.reported == len(here), label
            assert c["all"].current.closure_rate == pytest.approx(closure_rate(here)), label
            assert c["all"].current.on_time_rate == pytest.approx(on_time_rate(here)), label
            assert c["all"].last_year.reported == len(last_year), label
            assert c["all"].last_year.closure_rate == pytest.approx(closure_rate(last_year)), label
            if last_year:
                expected_yoy = 100 * (len(here) - len(last_year)) / len(last_year)
                assert c["all"].intake_yoy == pytest.approx(expected_yoy), label
            complaints = [r for r in here if r["channel"] in PUBLIC]
            patrol = [r for r in here if r["channel"] == "patrol"]
            assert c["complaint"].current.closure_rate == pytest.approx(closure_rate(complaints)), label
            assert c["patrol"].current.closure_rate == pytest.approx(closure_rate(patrol)), label
            previous = in_period(mine, figures.previous_period(period))
            assert c["all"].previous.reported == len(previous), label
            modes = Counter(r["disposition_mode"] for r in here if r["status"] not in INVALID)
            assert {k: v for k, v in board.modes.items() if v} == dict(modes), label
    # The 13-month trend, month by month, with the year before.
    trend = selectors.trend(Filters(), now=now, use_summary=use_summary)
    for month in trend:
        end = figures.shift_months(month.month, 1)
        here = in_period(
            rows,
            Period(
                PeriodKind.CUSTOM, month.month, min(end, now.astimezone(SH).date() + dt.timedelta(days=1))
            ),
        )
        assert month.measures.reported == len(here)
        assert month.measures.closure_rate == pytest.approx(closure_rate(here))
        before = figures.shift_months(month.month, -12)
        assert month.last_year.reported == len(
            in_period(rows, Period(PeriodKind.CUSTOM, before, figures.shift_months(before, 1)))
        )


def test_backlog_per_unit_equals_open_cases(sim_district: District) -> None:
    now = sim_district.end
    rows = case_rows()
    expected: dict[int | None, list[int]] = {}
    for r in rows:
        if Status(r["status"]) in FINAL:
            continue
        counts = expected.setdefault(r["lead_unit_id"], [0, 0])
        counts[0] += 1
        counts[1] += r["deadline"] is not None and r["paused_at"] is None and r["deadline"] < now
    got = selectors.backlog(Filters(), now=now)
    assert {k: [v["open"], v["overdue"]] for k, v in got.items()} == expected
    assert sum(v[1] for v in expected.values()) > 0  # the simulation leaves overdue work


def test_summary_follows_changed_cases(sim_district: District) -> None:
    now = sim_district.end
    summary.refresh_all(now=now)
    case = (
        Case.objects.filter(status="handling", reported_at__lt=now - dt.timedelta(days=40))
        .order_by("pk")
        .first()
    )
    assert case is not None
    day = case.reported_at.astimezone(SH).date()
    period = Period(PeriodKind.CUSTOM, day, day + dt.timedelta(days=1))
    before = selectors.measures(Filters(), period, now=now)
    later = now + dt.timedelta(minutes=3)
    Case.objects.filter(pk=case.pk).update(status="closed", closed_at=later, updated_at=later)
    stale = selectors.measures(Filters(), period, now=now)
    assert stale.closed == before.closed  # the summary has not seen it yet
    assert selectors.measures(Filters(), period, now=now, use_summary=False).closed == before.closed + 1
    days, _rows = summary.refresh_changed(now=later + dt.timedelta(minutes=1))
    assert days >= 1
    assert selectors.measures(Filters(), period, now=now).closed == before.closed + 1


# -- pages ---------------------------------------------------------------------------------------------


@pytest.fixture
def leader(sim_district: District) -> Client:
    from django.core.cache import cache

    from chengguan.dashboard.views import BIGSCREEN_CACHE_KEY

    cache.delete_many(
        [f"{BIGSCREEN_CACHE_KEY}:{lang}" for lang in ("zh-hans", "en")]
    )  # figures of another test's district may still be cached
    user = User.objects.get(staff__role="leader")
    client = Client()
    client.force_login(user)
    return client


def test_dashboard_page_shows_the_independent_figures(sim_district: District, leader: Client) -> None:
    territory = Case.objects.values_list("territory_id", flat=True).first()
    query = {"period": "custom", "start": "2025-07-01", "end": "2026-06-29", "territory": str(territory)}
    response = leader.get("/dashboard/", query)
    assert response.status_code == 200
    board = response.context["board"]
    rows = [r for r in case_rows() if r["territory_id"] == territory]
    here = in_period(rows, board.period)
    assert board.comparison["all"].current.reported == len(here)
    assert board.comparison["all"].current.closure_rate == pytest.approx(closure_rate(here))
    assert board.comparison["all"].current.on_time_rate == pytest.approx(on_time_rate(here))
    body = response.content.decode()
    assert "结案率" in body and "721" in body and 'id="dash-data"' in body
    assert "<script>" not in body  # charts get their data as JSON, drawn by a static file (CSP)
    for table in ("groups", "channels", "categories", "units", "mix", "trend", "hotspots"):
        export = leader.get(f"/dashboard/export/{table}.xlsx", query)
        assert export.status_code == 200, table
        assert export["Content-Type"].startswith("application/vnd.openxmlformats")
        sheet = load_workbook(io.BytesIO(export.content)).worksheets[0]
        values = list(sheet.iter_rows(values_only=True))
        assert len(values) >= 2, table
    groups = list(
        load_workbook(io.BytesIO(leader.get("/dashboard/export/groups.xlsx", query).content))
        .worksheets[0]
        .iter_rows(values_only=True)
    )
    total = next(r for r in groups if r[0] == "合计")
    assert total[1] == len(here)
    assert total[6] == pytest.approx(round(closure_rate(here) or 0, 1))


def test_hotspots_and_big_screen_data(sim_district: District, leader: Client) -> None:
    bbox = boards.district_bbox()
    assert bbox is not None
    query = {"period": "year", "bbox": ",".join(str(v) for v in bbox), "zoom": "15"}
    data = leader.get("/dashboard/hotspots.json", query).json()
    assert data["level"] == 4 and data["cells"] and all(c["count"] > 0 for c in data["cells"])
    assert leader.get("/dashboard/hotspots.json", {"bbox": "x"}).status_code == 400
    screen = leader.get("/bigscreen/data.json").json()
    assert {"kpi", "channels", "groups", "trend", "units", "mix", "latest", "hotspots"} <= set(screen)
    page = leader.get("/bigscreen/?refresh=15")
    assert page.status_code == 200 and b'data-refresh="15"' in page.content


def test_only_the_district_view_sees_the_dashboard(sim_district: District) -> None:
    anonymous = Client()
    assert anonymous.get("/dashboard/").status_code == 302
    assert anonymous.get("/bigscreen/data.json").status_code == 302
    handler = Client()
    handler.force_login(User.objects.get(staff__role="handler"))
    assert handler.get("/dashboard/").status_code == 403
    assert handler.get("/bigscreen/").status_code == 403
    unknown = Client()
    unknown.force_login(User.objects.get(staff__role="leader"))
    assert unknown.get("/dashboard/export/nothing.xlsx").status_code == 404


def test_json_chart_data_is_plain(sim_district: District) -> None:
    today = sim_district.end.astimezone(SH).date()
    board = boards.build(Filters(), figures.period_for(PeriodKind.YEAR, today), now=sim_district.end)
    data = boards.chart_data(board)
    json.dumps(data)  # only plain numbers and text
    assert len(data["trend"]) == 13 and len(data["mix"]) == 3
