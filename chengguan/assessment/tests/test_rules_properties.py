"""Plain rules: hand-computed cases and Hypothesis properties (no database)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from chengguan.assessment import accountability, indicators, scoring
from chengguan.assessment.periods import Period, parse_period

scores = st.decimals(min_value=-500, max_value=500, places=2, allow_nan=False, allow_infinity=False)
points = st.decimals(min_value=-50, max_value=50, places=2, allow_nan=False, allow_infinity=False)


def test_rank_hand_computed() -> None:
    ranks = scoring.rank({"a": Decimal(90), "b": Decimal(95), "c": Decimal(90), "d": Decimal(80)})
    assert ranks == {"b": 1, "a": 2, "c": 2, "d": 4}
    assert scoring.last_places(ranks) == {"d"}
    assert scoring.last_places({"a": 1, "b": 1}) == set()


@given(st.dictionaries(st.text(min_size=1, max_size=4), scores, min_size=1, max_size=40))
def test_ranking_properties(values: dict[str, Decimal]) -> None:
    ranks = scoring.rank(values)
    assert set(ranks) == set(values)  # everyone ranked exactly once
    ordered = sorted(values, key=lambda k: (ranks[k], k))
    assert sorted(ordered) == sorted(values)  # a permutation
    for a in values:
        for b in values:
            if values[a] == values[b]:
                assert ranks[a] == ranks[b]  # ties share a rank
            elif values[a] > values[b]:
                assert ranks[a] < ranks[b]
        # competition ranking: rank = 1 + how many score strictly higher
        assert ranks[a] == 1 + sum(1 for b in values if values[b] > values[a])


@given(scores, st.lists(points, max_size=30))
def test_score_is_base_plus_lines(base: Decimal, lines: list[Decimal]) -> None:
    total = scoring.total(base, lines)
    assert total.score == base + sum(lines, Decimal(0))
    assert total.score == total.base + total.bonus - total.penalty
    assert total.bonus >= 0 and total.penalty >= 0


@given(st.lists(points, max_size=30), st.one_of(st.none(), st.decimals(min_value=1, max_value=30, places=2)))
def test_item_cap_limits_the_running_total(lines: list[Decimal], cap: Decimal | None) -> None:
    capped = scoring.apply_cap(lines, cap)
    assert [c.raw for c in capped] == lines
    if cap is None:
        assert [c.points for c in capped] == lines
    else:
        assert sum(abs(c.points) for c in capped) <= cap
        for c in capped:
            assert abs(c.points) <= abs(c.raw) and (c.points == 0 or (c.points > 0) == (c.raw > 0))


def test_grades_at_boundaries() -> None:
    assert [scoring.grade(Decimal(s)) for s in (120, 90, "89.99", 75, 60, 40, "39.99", -5)] == list(
        "AABBCDEE"
    )


def test_indicator_values_and_points() -> None:
    rate = indicators.lookup("departmental", "on_time_rate")
    assert rate is not None
    value = indicators.evaluate(rate, {"on_time": 3, "dispatched": 4})
    assert value.value == Decimal("0.75") and value.shown(rate.kind) == "75.00%"
    got = indicators.indicator_points(value, Decimal(20), Decimal("0.9"))
    assert got is not None and got.points == Decimal("-3.00")
    assert got.formula == "20 × (0.75 − 0.9) = -3"
    assert indicators.evaluate(rate, {"on_time": 0, "dispatched": 0}).value is None  # no basis
    assert indicators.indicator_points(value, Decimal(20), Decimal("0.9"), min_base=5) is None
    count = indicators.lookup("departmental", "dispatched")
    assert count is not None
    assert [indicators.case_count_score(Decimal(n)) for n in (50, 51, 200, 1001)] == [100, 90, 75, 0]
    # composite: 0.3 × 75 (on-time) + 0.7 × 100 (≤50 cases) = 92.5
    values = {
        "on_time_rate": value,
        "dispatched": indicators.evaluate(count, {"dispatched": 4}),
    }
    weights = {"on_time_rate": Decimal("0.3"), "dispatched": Decimal("0.7")}
    assert indicators.composite("departmental", weights, values) == Decimal("92.50")
    rework = indicators.lookup("departmental", "rework_rate")
    assert rework is not None and indicators.normalise(rework, Decimal("0.25")) == Decimal("75.00")


def test_streak() -> None:
    assert accountability.streak(True, [True, True, False, True]) == 3
    assert accountability.streak(False, [True, True]) == 0
    assert accountability.streak(True, []) == 1


def test_periods() -> None:
    assert Period.of("quarter", __import__("datetime").date(2026, 5, 17)).label == "2026 年第 2 季度"
    march = parse_period("month", "2026-03")
    assert (march.start.isoformat(), march.end.isoformat()) == ("2026-03-01", "2026-04-01")
    assert march.previous().start.isoformat() == "2026-02-01"
    assert parse_period("quarter", "2026-Q4").end.isoformat() == "2027-01-01"
    assert parse_period("year", "2026").end.isoformat() == "2027-01-01"
