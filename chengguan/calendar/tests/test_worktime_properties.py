"""Properties of working-time arithmetic, checked by hypothesis.

Moments range over mid-2025 to mid-2027, so they cover real holidays, 调休 weekends, the
end of chinese_calendar's data and the Monday–Friday fallback for 2027. Schedules are the
default one, and arbitrary ones (including round-the-clock 00:00–24:00 working days).
An independent, deliberately simple day-by-day walk serves as the oracle.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from chengguan.calendar.worktime import SHANGHAI, Period, WorkCalendar

DEFAULT = WorkCalendar(
    overrides={dt.date(2027, 1, 1): (False, "元旦"), dt.date(2026, 10, 12): (False, "本地休息")}
)
TICK = dt.timedelta(microseconds=1)
ZERO = dt.timedelta(0)

moments = st.datetimes(min_value=dt.datetime(2025, 6, 1), max_value=dt.datetime(2027, 6, 30)).map(
    lambda naive: naive.replace(tzinfo=SHANGHAI)
)
# Mostly whole minutes (as clerks enter them), sometimes arbitrary microseconds.
minute_moments = moments.map(lambda m: m.replace(second=0, microsecond=0))
any_moments = st.one_of(minute_moments, moments)
amounts = st.one_of(
    st.integers(min_value=0, max_value=8 * 60 * 25).map(lambda minutes: dt.timedelta(minutes=minutes)),
    st.timedeltas(min_value=ZERO, max_value=dt.timedelta(hours=300)),
)


@st.composite
def schedules(draw: st.DrawFn) -> WorkCalendar:
    cuts = draw(st.lists(st.integers(min_value=0, max_value=24 * 4), min_size=2, max_size=8, unique=True))
    cuts.sort()
    if len(cuts) % 2:
        cuts.pop()
    periods = [
        Period(dt.timedelta(minutes=15 * cuts[i]), dt.timedelta(minutes=15 * cuts[i + 1]))
        for i in range(0, len(cuts), 2)
    ]
    return WorkCalendar(periods)


calendars = st.one_of(st.just(DEFAULT), schedules())


def reference_between(calendar: WorkCalendar, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """Walk every day from a to b and intersect [a, b] with each working period."""
    la, lb = a.astimezone(SHANGHAI).replace(tzinfo=None), b.astimezone(SHANGHAI).replace(tzinfo=None)
    total = ZERO
    day = la.date()
    while day <= lb.date():
        if calendar.day(day).is_working_day:
            midnight = dt.datetime.combine(day, dt.time())
            for period in calendar.periods:
                begin, end = max(la, midnight + period.start), min(lb, midnight + period.end)
                if end > begin:
                    total += end - begin
        day += dt.timedelta(days=1)
    return total


def lands_on_working_time(calendar: WorkCalendar, moment: dt.datetime) -> bool:
    """Inside a working period, or exactly at the end of one (the instant before was working)."""
    return calendar.is_working(moment) or calendar.between(moment - TICK, moment) == TICK


@settings(max_examples=300)
@given(calendars, any_moments, amounts, amounts)
def test_add_is_monotonic_in_hours(
    calendar: WorkCalendar, start: dt.datetime, a: dt.timedelta, b: dt.timedelta
) -> None:
    low, high = sorted((a, b))
    assert calendar.add(start, low) <= calendar.add(start, high)


@settings(max_examples=300)
@given(calendars, any_moments, any_moments, amounts)
def test_add_is_monotonic_in_start(
    calendar: WorkCalendar, first: dt.datetime, second: dt.datetime, hours: dt.timedelta
) -> None:
    early, late = sorted((first, second))
    assert calendar.add(early, hours) <= calendar.add(late, hours)


@settings(max_examples=300)
@given(calendars, any_moments, amounts, amounts)
def test_add_is_additive(
    calendar: WorkCalendar, start: dt.datetime, a: dt.timedelta, b: dt.timedelta
) -> None:
    assert calendar.add(calendar.add(start, a), b) == calendar.add(start, a + b)


@settings(max_examples=300)
@given(calendars, any_moments, amounts)
def test_add_never_lands_in_non_working_time(
    calendar: WorkCalendar, start: dt.datetime, hours: dt.timedelta
) -> None:
    due = calendar.add(start, hours)
    assert due >= start
    assert lands_on_working_time(calendar, due)


@settings(max_examples=300)
@given(calendars, any_moments, amounts)
def test_between_undoes_add_and_add_is_the_earliest_such_moment(
    calendar: WorkCalendar, start: dt.datetime, hours: dt.timedelta
) -> None:
    due = calendar.add(start, hours)
    assert calendar.between(start, due) == hours
    if hours > ZERO:
        assert calendar.between(start, due - TICK) < hours


@settings(max_examples=200)
@given(calendars, any_moments, any_moments)
def test_between_matches_a_day_by_day_walk(calendar: WorkCalendar, a: dt.datetime, b: dt.datetime) -> None:
    assert calendar.between(a, b) == reference_between(calendar, a, b)


@settings(max_examples=200)
@given(calendars, any_moments, any_moments, any_moments)
def test_between_adds_up_over_consecutive_intervals(
    calendar: WorkCalendar, a: dt.datetime, b: dt.datetime, c: dt.datetime
) -> None:
    a, b, c = sorted((a, b, c))
    assert calendar.between(a, b) + calendar.between(b, c) == calendar.between(a, c)


@settings(max_examples=200)
@given(calendars, any_moments)
def test_zero_hours_and_next_working_moment(calendar: WorkCalendar, start: dt.datetime) -> None:
    following = calendar.next_working_moment(start)
    assert following >= start
    assert calendar.is_working(following)
    assert calendar.between(start, following) == ZERO
    # Nothing between start and the next working moment is working time.
    assume(following > start)
    assert not calendar.is_working(following - TICK)
    assert calendar.add(start, 0) in (start, following)


@given(any_moments, st.integers(min_value=0, max_value=30))
def test_add_days_is_days_times_the_working_day(start: dt.datetime, days: int) -> None:
    assert DEFAULT.add_days(start, days) == DEFAULT.add(start, dt.timedelta(hours=8 * days))


@given(any_moments, amounts, any_moments)
def test_round_the_clock_is_plain_timedelta_arithmetic(
    start: dt.datetime, hours: dt.timedelta, other: dt.datetime
) -> None:
    assert DEFAULT.add(start, hours, round_the_clock=True) == start + hours
    assert DEFAULT.between(start, other, round_the_clock=True) == max(other - start, ZERO)
    utc = start.astimezone(dt.UTC)
    assert DEFAULT.add(utc, hours, round_the_clock=True) == start + hours


@given(any_moments, st.decimals(min_value=0, max_value=200, places=2))
def test_decimal_hours_equal_the_same_timedelta(start: dt.datetime, hours: Decimal) -> None:
    delta = dt.timedelta(seconds=int(hours * 3600))
    assert DEFAULT.add(start, hours) == DEFAULT.add(start, delta)
    assert DEFAULT.between_hours(start, DEFAULT.add(start, hours)) == hours


@given(st.dates(min_value=dt.date(2027, 1, 2), max_value=dt.date(2027, 12, 31)))
def test_2027_without_entered_dates_is_monday_to_friday(day: dt.date) -> None:
    calendar = WorkCalendar()
    assert calendar.is_working_day(day) == (day.weekday() < 5)
    assert calendar.years_without_data(day, day) == (2027,)


@settings(max_examples=300)
@given(calendars, minute_moments, st.integers(min_value=1, max_value=8 * 60 * 3))
def test_a_computed_deadline_plus_nothing_stays_put(
    calendar: WorkCalendar, start: dt.datetime, minutes: int
) -> None:
    # Whole minutes from whole-minute starts often end exactly at a period end (12:00, 18:00).
    due = calendar.add(start, dt.timedelta(minutes=minutes))
    assert calendar.add(due, 0) == due
