"""Hand-checked deadlines on the real 2026 calendar (no database).

2026 as published by the State Council and shipped in chinese_calendar 1.11.0:
中秋节 9-25 (Fri) to 9-27 off; 国庆节 10-01 (Thu) to 10-07 (Wed) off;
调休 working days Sunday 9-20 and Saturday 10-10. Default periods 08–12 and 14–18.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal

import pytest

from chengguan.calendar.worktime import (
    SHANGHAI,
    CalendarError,
    DayOverride,
    DaySource,
    Period,
    WorkCalendar,
    fallback_warning,
    parse_periods,
    to_timedelta,
)

CAL = WorkCalendar()
H = dt.timedelta(hours=1)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI)


def test_the_2026_national_day_holiday_as_chinese_calendar_has_it() -> None:
    for day in range(1, 8):
        info = CAL.day(dt.date(2026, 10, day))
        assert (info.is_working_day, info.name, info.source) == (False, "国庆节", DaySource.PACKAGE)
    assert CAL.day(dt.date(2026, 10, 10)).is_working_day  # Saturday, 调休
    assert CAL.day(dt.date(2026, 10, 10)).name == "国庆节调休上班"
    assert CAL.day(dt.date(2026, 9, 20)).is_working_day  # Sunday, 调休
    assert not CAL.is_working_day(dt.date(2026, 10, 11))  # the Sunday after stays off
    assert not CAL.is_working_day(dt.date(2026, 9, 25))  # 中秋节, a Friday
    assert CAL.day(dt.date(2026, 10, 13)).name == ""


def test_four_hours_over_the_national_day_holiday() -> None:
    # 9-30 16:00–18:00 is 2 h; the next working day is Thursday 10-08: 08:00 + 2 h.
    assert CAL.add(at(2026, 9, 30, 16), 4) == at(2026, 10, 8, 10)
    assert CAL.between(at(2026, 9, 30, 16), at(2026, 10, 8, 10)) == 4 * H


def test_one_working_day_over_the_national_day_holiday() -> None:
    # 9-30 10–12 and 14–18 = 6 h, then 2 h on 10-08.
    assert CAL.add_days(at(2026, 9, 30, 10), 1) == at(2026, 10, 8, 10)
    # Starting during the holiday, counting begins on 10-08 at 08:00.
    assert CAL.add_days(at(2026, 10, 3, 9), 1) == at(2026, 10, 8, 18)


def test_three_working_days_land_on_the_make_up_saturday() -> None:
    # 9-30 from 09:00: 7 h; 10-08: 8 h; 10-09: 8 h; the last hour falls on Saturday 10-10.
    assert CAL.add_days(at(2026, 9, 30, 9), 3) == at(2026, 10, 10, 9)


def test_deadline_crossing_a_make_up_saturday() -> None:
    # Friday 10-09 17:00 + 2 h: 1 h on Friday, 1 h on the 调休 Saturday 10-10.
    assert CAL.add(at(2026, 10, 9, 17), 2) == at(2026, 10, 10, 9)
    # Saturday 10-10 17:00 + 2 h: Sunday 10-11 is off, so Monday 10-12 09:00.
    assert CAL.add(at(2026, 10, 10, 17), 2) == at(2026, 10, 12, 9)
    # An ordinary Saturday is skipped: Friday 10-16 17:00 + 2 h is Monday 10-19 09:00.
    assert CAL.add(at(2026, 10, 16, 17), 2) == at(2026, 10, 19, 9)
    # Reported on Saturday 9-19, counting starts on the 调休 Sunday 9-20.
    assert CAL.add(at(2026, 9, 19, 10), 1) == at(2026, 9, 20, 9)


def test_deadline_starting_at_lunch() -> None:
    assert CAL.add(at(2026, 10, 12, 12, 30), 1) == at(2026, 10, 12, 15)
    assert CAL.add(at(2026, 10, 12, 12), 1) == at(2026, 10, 12, 15)
    # Ends exactly at the start of lunch, not at 14:00.
    assert CAL.add(at(2026, 10, 12, 11), 1) == at(2026, 10, 12, 12)
    assert CAL.add(at(2026, 10, 12, 11), 2) == at(2026, 10, 12, 15)
    assert CAL.between(at(2026, 10, 12, 11), at(2026, 10, 12, 15)) == 2 * H


def test_deadline_starting_at_night_or_early_morning() -> None:
    assert CAL.add(at(2026, 10, 12, 22), 1) == at(2026, 10, 13, 9)
    assert CAL.add(at(2026, 10, 13, 6), 1) == at(2026, 10, 13, 9)
    # 4 hours from 18:00 use the whole next morning and end at 12:00.
    assert CAL.add(at(2026, 10, 12, 18), 4) == at(2026, 10, 13, 12)


def test_deadline_starting_on_a_weekend() -> None:
    assert CAL.add(at(2026, 10, 17, 10), 8) == at(2026, 10, 19, 18)
    assert CAL.add_days(at(2026, 10, 18, 23, 59), 2) == at(2026, 10, 20, 18)


def test_five_working_days_over_spring_festival_2026() -> None:
    # 春节 2026-02-15 to 02-23 off, 调休 Saturdays 02-14 and 02-28.
    # From Friday 02-13 08:00: 02-13 (1), Sat 02-14 (2), 02-24 (3), 02-25 (4), 02-26 (5).
    assert CAL.add_days(at(2026, 2, 13, 8), 5) == at(2026, 2, 26, 18)
    assert CAL.working_days_between(dt.date(2026, 2, 13), dt.date(2026, 2, 28)) == 7


def test_zero_hours() -> None:
    assert CAL.add(at(2026, 10, 12, 9, 30), 0) == at(2026, 10, 12, 9, 30)
    assert CAL.add(at(2026, 10, 12, 12), 0) == at(2026, 10, 12, 12)  # a period end
    assert CAL.add(at(2026, 10, 12, 12, 1), 0) == at(2026, 10, 12, 14)
    assert CAL.add(at(2026, 10, 3, 12), 0) == at(2026, 10, 8, 8)


def test_is_working_and_next_working_moment() -> None:
    assert CAL.is_working(at(2026, 10, 12, 8))
    assert not CAL.is_working(at(2026, 10, 12, 12))  # lunch starts at 12:00
    assert not CAL.is_working(at(2026, 10, 12, 18))
    assert CAL.is_working(at(2026, 10, 10, 17, 59))  # 调休 Saturday
    assert not CAL.is_working(at(2026, 10, 5, 10))  # National Day
    assert CAL.next_working_moment(at(2026, 10, 12, 9)) == at(2026, 10, 12, 9)
    assert CAL.next_working_moment(at(2026, 10, 12, 12)) == at(2026, 10, 12, 14)
    assert CAL.next_working_moment(at(2026, 10, 12, 18)) == at(2026, 10, 13, 8)
    assert CAL.next_working_moment(at(2026, 9, 30, 18)) == at(2026, 10, 8, 8)
    assert CAL.next_working_moment(at(2026, 10, 9, 20)) == at(2026, 10, 10, 8)


def test_round_the_clock_ignores_holidays_and_nights() -> None:
    start = at(2026, 10, 1, 23, 30)
    assert CAL.add(start, 1, round_the_clock=True) == at(2026, 10, 2, 0, 30)
    assert CAL.add(start, Decimal("0.5"), round_the_clock=True) == at(2026, 10, 2)
    assert CAL.add_days(start, 1, round_the_clock=True) == at(2026, 10, 2, 23, 30)
    assert CAL.between(start, at(2026, 10, 3, 23, 30), round_the_clock=True) == 48 * H
    assert CAL.is_working(start, round_the_clock=True)
    assert CAL.next_working_moment(start, round_the_clock=True) == start
    # The same start on the working clock waits for the holiday to end.
    assert CAL.add(start, 1) == at(2026, 10, 8, 9)


def test_naive_is_local_and_aware_input_is_converted() -> None:
    assert CAL.add(dt.datetime(2026, 10, 12, 9), 1) == at(2026, 10, 12, 10)
    utc_nine_local = dt.datetime(2026, 10, 12, 1, tzinfo=dt.UTC)
    result = CAL.add(utc_nine_local, 1)
    assert result == at(2026, 10, 12, 10)
    assert result.utcoffset() == dt.timedelta(hours=8)


def test_amounts_in_decimal_float_int_and_timedelta_agree() -> None:
    start = at(2026, 10, 12, 11)
    expected = at(2026, 10, 12, 14, 30)
    assert CAL.add(start, Decimal("1.5")) == expected
    assert CAL.add(start, 1.5) == expected
    assert CAL.add(start, dt.timedelta(minutes=90)) == expected
    assert CAL.add(start, 0.1) == at(2026, 10, 12, 11, 6)
    assert CAL.between_hours(start, expected) == Decimal("1.5")


def test_bad_amounts_are_refused_in_chinese() -> None:
    with pytest.raises(CalendarError, match="负数"):
        CAL.add(at(2026, 10, 12, 9), -1)
    with pytest.raises(CalendarError, match="有效的小时数"):
        to_timedelta(Decimal("NaN"))
    with pytest.raises(CalendarError, match="有效的小时数"):
        to_timedelta(float("inf"))


def test_between_is_zero_backwards_and_within_non_working_time() -> None:
    assert CAL.between(at(2026, 10, 12, 10), at(2026, 10, 12, 9)) == dt.timedelta(0)
    assert CAL.between(at(2026, 10, 12, 12, 10), at(2026, 10, 12, 13, 50)) == dt.timedelta(0)
    assert CAL.between(at(2026, 10, 1), at(2026, 10, 7, 23)) == dt.timedelta(0)
    # October 2026: 10-08, 10-09, Saturday 10-10 (调休) and three full weeks = 18 working days.
    assert CAL.working_days_between(dt.date(2026, 10, 1), dt.date(2026, 10, 31)) == 18
    assert CAL.between(at(2026, 10, 1), at(2026, 11, 1)) == 18 * 8 * H


def test_configurable_periods() -> None:
    calendar = WorkCalendar("08:30-12:00,13:30-17:30")
    assert calendar.hours_per_day == Decimal("7.5")
    assert calendar.add(at(2026, 10, 12, 11), 2) == at(2026, 10, 12, 14, 30)
    assert calendar.add_days(at(2026, 10, 12, 8, 30), 1) == at(2026, 10, 12, 17, 30)
    single = WorkCalendar([(dt.time(9), dt.time(17))])
    assert single.hours_per_day == 8
    assert single.add(at(2026, 10, 12, 16), 2) == at(2026, 10, 13, 10)


def test_touching_periods_are_merged_and_bad_periods_refused() -> None:
    assert parse_periods("14:00-18:00, 08:00-12:00，12:00-13:00") == [
        Period(dt.timedelta(hours=8), dt.timedelta(hours=13)),
        Period(dt.timedelta(hours=14), dt.timedelta(hours=18)),
    ]
    assert str(parse_periods("00:00-24:00")[0]) == "00:00-24:00"
    for text, message in [
        ("", "至少需要一个"),
        ("08:00", "开始-结束"),
        ("8-12", "HH:MM"),
        ("12:00-08:00", "晚于开始"),
        ("08:00-12:00,11:00-13:00", "重叠"),
        ("08:00-25:00", "不存在"),
        ("08:00-12:60", "不存在"),
    ]:
        with pytest.raises(CalendarError, match=message):
            parse_periods(text)


def test_overrides_take_precedence_over_chinese_calendar() -> None:
    # A locality that also works on 10-07 and rests on 10-12.
    calendar = WorkCalendar(
        overrides={
            dt.date(2026, 10, 7): DayOverride(True, "本地调整上班"),
            dt.date(2026, 10, 12): (False, "本地休息"),
        }
    )
    assert calendar.day(dt.date(2026, 10, 7)).source == DaySource.OVERRIDE
    assert calendar.add(at(2026, 9, 30, 16), 4) == at(2026, 10, 7, 10)
    assert calendar.add(at(2026, 10, 10, 17), 2) == at(2026, 10, 13, 9)
    # Other dates of 2026 still come from the package.
    assert calendar.day(dt.date(2026, 10, 10)).name == "国庆节调休上班"


def test_2027_without_data_falls_back_to_monday_to_friday_with_a_warning() -> None:
    calendar = WorkCalendar()
    assert not calendar.has_data(2027)
    assert calendar.has_data(2026)
    info = calendar.day(dt.date(2027, 1, 1))  # a Friday
    assert (info.is_working_day, info.source) == (True, DaySource.FALLBACK)
    deadline = calendar.deadline(at(2026, 12, 31, 16), 4)
    assert deadline.due == at(2027, 1, 1, 10)
    assert deadline.years_without_data == (2027,)
    assert deadline.warnings == ["2027 年节假日未录入，按周一至周五计算"]
    assert 2027 in calendar.unknown_years
    assert calendar.warnings(at(2027, 1, 4), at(2027, 1, 5)) == [fallback_warning(2027)]
    # A deadline entirely inside 2026 carries no warning.
    assert calendar.deadline(at(2026, 12, 30, 9), 8).warnings == []
    # Weekends of 2027 are still skipped.
    assert calendar.add(at(2027, 1, 8, 17), 2) == at(2027, 1, 11, 9)


def test_2027_with_entered_holidays_moves_the_deadline_and_drops_the_warning() -> None:
    calendar = WorkCalendar(overrides={dt.date(2027, 1, 1): (False, "元旦")})
    deadline = calendar.deadline(at(2026, 12, 31, 16), 4)
    assert deadline.due == at(2027, 1, 4, 10)
    assert deadline.warnings == []
    assert calendar.day(dt.date(2027, 1, 5)).source == DaySource.WEEKDAYS
    assert calendar.unknown_years == frozenset()


def test_years_before_chinese_calendar_also_fall_back_with_a_warning() -> None:
    calendar = WorkCalendar()
    assert calendar.years_without_data(dt.date(2003, 5, 1), dt.date(2004, 5, 1)) == (2003,)
    assert calendar.is_working_day(dt.date(2003, 5, 1))  # a Thursday; no data for 2003


def test_without_the_package_every_year_is_monday_to_friday() -> None:
    calendar = WorkCalendar(use_package=False)
    assert calendar.is_working_day(dt.date(2026, 10, 1))
    assert not calendar.is_working_day(dt.date(2026, 10, 10))
    assert calendar.years_without_data(dt.date(2026, 1, 1), dt.date(2026, 12, 31)) == (2026,)


def test_fast_enough_for_intake() -> None:
    # Intake computes several deadlines per case at 1,000+ cases/s. These 1,000 "cases" of ten
    # calls each took 0.07 s when written; the bound is generous for slow CI machines, yet a
    # per-minute loop (480 steps per working day) would miss it by far.
    calendar = WorkCalendar()
    starts = [at(2026, 9, 1) + dt.timedelta(minutes=37 * i) for i in range(1000)]
    calendar.add(starts[0], 1)  # classify the year once, as the shared calendar has
    began = time.perf_counter()
    for start in starts:
        for hours in (2, 4, 8, 40, 160):
            calendar.between(start, calendar.add(start, hours))
        for days in (1, 5, 20):
            calendar.add_days(start, days)
        calendar.add(start, 0.5, round_the_clock=True)
        calendar.is_working(start)
    assert time.perf_counter() - began < 2.0


def test_a_deadline_at_midnight_closing_a_late_period_stays_put() -> None:
    # Found by the property test: a period running to 24:00 ends the day at the next midnight.
    late = WorkCalendar(parse_periods("08:00-12:00, 23:45-24:00"))
    assert late.periods[-1].end == dt.timedelta(hours=24)
    # 2025-06-03 (Tuesday) is the first working day after the Dragon Boat holiday.
    due = late.add(at(2025, 6, 1), dt.timedelta(hours=4, minutes=15))
    assert due == at(2025, 6, 4)  # the end of Tuesday's last period
    assert late.add(due, 0) == due
    assert late.between(at(2025, 6, 3), due) == dt.timedelta(hours=4, minutes=15)
    # Midnight after a day off is not a period end: zero hours move to the next start.
    assert late.add(at(2025, 6, 2), 0) == at(2025, 6, 3, 8)
