"""The windowed dispatch/return counts agree with a plain reading of the rule and with the
explain view's filter, for any history of dispatches and returns (Hypothesis, real database)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chengguan.assessment import selectors
from chengguan.assessment.periods import Period
from chengguan.cases.models import CaseEvent

from .conftest import World, at

START = dt.date(2026, 3, 1)
ACTIONS = ("dispatch", "return", "register", "close")
event = st.tuples(
    st.sampled_from(ACTIONS),
    st.integers(min_value=-5, max_value=40),  # day relative to the period's start
    st.sampled_from(("dispatcher", "dispatcher2")),
    st.sampled_from(("D1", "D2")),
)
histories = st.lists(st.lists(event, min_size=1, max_size=6), min_size=1, max_size=5)


class Rollback(Exception):
    pass


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories)
def test_returned_after_agrees_with_the_rule_and_the_explain_view(world: World, cases: list) -> None:
    w = world
    window = selectors.Window.of(Period.of("month", START))
    try:
        with transaction.atomic():
            expected_accurate: Counter[str] = Counter()
            expected_units: Counter[tuple[str, str]] = Counter()
            returned_total = 0
            for history in cases:
                case = w.case(at("2026-02-20"), lead=w.d1)
                # Events in time order, as the workflow writes them (seq follows time).
                timed = sorted(
                    (
                        (at("2026-03-01") + dt.timedelta(days=day, minutes=n), action, who, unit)
                        for n, (action, day, who, unit) in enumerate(history)
                    ),
                    key=lambda row: row[0],
                )
                written = [
                    (w.event(case, action, when, who, data={"lead_unit": unit}), action, who, unit)
                    for when, action, who, unit in timed
                ]
                for row, action, who, unit in written:
                    inside = window.start <= row.at < window.end
                    if not inside or action not in ("dispatch", "return"):
                        continue
                    expected_units[(unit, action)] += 1
                    if action == "dispatch":
                        returned = any(
                            other.seq > row.seq and a == "return" and other.at < window.end
                            for other, a, _who, _unit in written
                        )
                        returned_total += returned
                        expected_accurate[who] += 0 if returned else 1
            posts, units = selectors.event_counts(window)
            for who in ("dispatcher", "dispatcher2"):
                got = posts.get(w.users[who].pk, {}).get("accurate_dispatches", 0)
                assert got == expected_accurate[who]
            for (unit, action), n in expected_units.items():
                key = "dispatch_events" if action == "dispatch" else "returns"
                assert units[unit][key] == n
            explain = CaseEvent.objects.filter(
                at__gte=window.start, at__lt=window.end, action="dispatch"
            ).filter(selectors._returned_after(window))
            assert explain.count() == returned_total
            raise Rollback
    except Rollback:
        pass
