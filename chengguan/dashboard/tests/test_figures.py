"""The plain formulas: rates, changes, 721 mix, lights and periods (no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from chengguan.dashboard import figures
from chengguan.dashboard.figures import Measures, PeriodKind

D = dt.date


def test_rates_and_changes() -> None:
    assert figures.rate(49, 50) == pytest.approx(98.0)
    assert figures.rate(1, 0) is None
    assert figures.change(110, 100) == pytest.approx(10.0)
    assert figures.change(90, 0) is None
    assert figures.change(None, 5) is None
    assert figures.point_change(93.0, 95.5) == pytest.approx(-2.5)
    assert figures.point_change(None, 95.5) is None


def test_measures_add_and_rates() -> None:
    a = Measures(
        reported=10, valid=8, closed=6, handled=6, on_time=5, reworked=1, extended=2, rated=4, satisfied=3
    )
    b = Measures(reported=5, valid=5, closed=5, handled=5, on_time=5)
    total = figures.total([a, b])
    assert total.reported == 15 and total.valid == 13 and total.closed == 11
    assert total.closure_rate == pytest.approx(100 * 11 / 13)
    assert total.on_time_rate == pytest.approx(100 * 10 / 11)
    assert total.rework_rate == pytest.approx(100 / 13)
    assert total.satisfaction_rate == pytest.approx(75.0)
    assert Measures().closure_rate is None
    assert Measures.of({"reported": 3, "closed": None}).reported == 3


def test_mix_721_against_target() -> None:
    rows = {r.mode: r for r in figures.mix_721({"service": 70, "management": 20, "enforcement": 10})}
    assert rows["service"].share == pytest.approx(70.0) and rows["service"].gap == pytest.approx(0.0)
    assert figures.mix_distance({"service": 70, "management": 20, "enforcement": 10}) == pytest.approx(0.0)
    skewed = {r.mode: r for r in figures.mix_721({"service": 50, "management": 20, "enforcement": 30})}
    assert skewed["enforcement"].gap == pytest.approx(20.0)
    assert figures.mix_distance({"service": 50, "management": 20, "enforcement": 30}) == pytest.approx(20.0)
    assert figures.mix_distance({}) is None
    assert [r.label for r in figures.mix_721({})] == ["服务", "管理", "执法"]


def test_unit_lights() -> None:
    assert figures.unit_light(0, 0) == "green"
    assert figures.unit_light(30, 0) == "green"
    assert figures.unit_light(30, 2) == "yellow"
    assert figures.unit_light(30, 3) == "red"
    assert figures.unit_light(5, 5) == "red"


@pytest.mark.parametrize(
    ("kind", "today", "start", "end"),
    [
        ("today", D(2026, 3, 15), D(2026, 3, 15), D(2026, 3, 16)),
        ("week", D(2026, 3, 18), D(2026, 3, 16), D(2026, 3, 19)),  # Monday to date
        ("month", D(2026, 3, 15), D(2026, 3, 1), D(2026, 3, 16)),
        ("quarter", D(2026, 5, 2), D(2026, 4, 1), D(2026, 5, 3)),
        ("year", D(2026, 3, 15), D(2026, 1, 1), D(2026, 3, 16)),
    ],
)
def test_periods_run_to_date(kind: str, today: dt.date, start: dt.date, end: dt.date) -> None:
    period = figures.period_for(kind, today)
    assert (period.start, period.end) == (start, end)


def test_previous_and_year_earlier_periods() -> None:
    month = figures.period_for(PeriodKind.MONTH, D(2026, 3, 31))
    assert (month.start, month.end) == (D(2026, 3, 1), D(2026, 4, 1))
    previous = figures.previous_period(month)
    assert (previous.start, previous.end) == (D(2026, 2, 1), D(2026, 3, 1))  # all of February
    partial = figures.period_for(PeriodKind.MONTH, D(2026, 3, 30))
    prev_partial = figures.previous_period(partial)
    assert (prev_partial.start, prev_partial.end) == (D(2026, 2, 1), D(2026, 3, 1))  # clamped to 28 Feb
    yoy = figures.year_earlier(figures.period_for(PeriodKind.MONTH, D(2026, 11, 25)))
    assert (yoy.start, yoy.end) == (D(2025, 11, 1), D(2025, 11, 26))
    leap = figures.year_earlier(figures.period_for(PeriodKind.TODAY, D(2028, 2, 29)))
    assert (leap.start, leap.end) == (D(2027, 2, 28), D(2027, 3, 1))
    week = figures.previous_period(figures.period_for(PeriodKind.WEEK, D(2026, 3, 18)))
    assert (week.start, week.end) == (D(2026, 3, 9), D(2026, 3, 12))
    custom = figures.period_for(PeriodKind.CUSTOM, D(2026, 3, 18), D(2026, 3, 10), D(2026, 3, 1))
    assert (custom.start, custom.end, custom.days) == (D(2026, 3, 1), D(2026, 3, 11), 10)
    before = figures.previous_period(custom)
    assert (before.start, before.end) == (D(2026, 2, 19), D(2026, 3, 1))
    year = figures.previous_period(figures.period_for(PeriodKind.YEAR, D(2026, 3, 15)))
    assert (year.start, year.end) == (D(2025, 1, 1), D(2025, 3, 16))
    with pytest.raises(ValueError):
        figures.period_for(PeriodKind.CUSTOM, D(2026, 1, 1))


def test_month_starts_and_shift() -> None:
    assert figures.month_starts(D(2026, 2, 14), 3) == [D(2025, 12, 1), D(2026, 1, 1), D(2026, 2, 1)]
    assert figures.shift_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert figures.shift_months(D(2024, 3, 31), -13) == D(2023, 2, 28)


def test_index_migration_lists_every_open_status() -> None:
    """The partial index of open cases must name the statuses the backlog query asks for."""
    import importlib

    from chengguan.dashboard.selectors import OPEN_STATUSES

    migration = importlib.import_module("chengguan.dashboard.migrations.0002_case_indexes")
    assert tuple(migration.OPEN) == OPEN_STATUSES


def test_every_query_shape_has_a_rollup_or_reads_cases() -> None:
    from chengguan.dashboard import grains

    assert grains.choose(set()).name == "district"
    assert grains.choose({"channel", "mode"}).name == "district"
    assert grains.choose({"territory", "channel"}).name == "territory"
    assert grains.choose({"unit", "mode"}).name == "unit"
    assert grains.choose({"major", "channel"}).name == "major"
    assert grains.choose({"category"}).name == "category"
    assert grains.choose({"major", "category"}).name == "category"
    assert grains.choose({"territory", "major", "channel"}).name == "town_major"
    assert grains.choose({"territory", "unit"}) is None
    assert grains.choose({"category", "channel"}) is None
