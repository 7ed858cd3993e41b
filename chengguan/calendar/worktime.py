"""Working time on the Chinese calendar: deadlines counted in 工作时 / 工作日.

Plain Python (no Django): a :class:`WorkCalendar` knows

* the daily schedule — working periods such as 08:00–12:00 and 14:00–18:00 (one working
  day = the sum of the periods, 8 hours by default), the same on every working day;
* which dates are working days, decided in this order:

  1. the bureau's own overrides (next year's State Council holidays and 调休 make-up
     working days, entered as rows before the ``chinese_calendar`` package knows them);
  2. the ``chinese_calendar`` package for the years it ships (2004–2026 in 1.11.0);
  3. plain Monday–Friday for every other year — and that year is reported, never hidden,
     so a page can say "2027 年节假日未录入，按周一至周五计算".

Times are wall-clock times in the calendar's zone (Asia/Shanghai by default; China has had
no daylight-saving time since 1991, so wall-clock and elapsed time agree). Naive datetimes
are read as local; results are aware datetimes in that zone.

Speed matters (intake computes several deadlines per case at 1,000+ cases/s): dates are
classified a year at a time into a table with a running count of working days, so a
deadline of N working days is a bisection, not a walk over N days or N×480 minutes.
"""

from __future__ import annotations

import bisect
import datetime as dt
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from enum import Enum
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEFAULT_PERIODS_TEXT = "08:00-12:00,14:00-18:00"
_DAY = dt.timedelta(days=1)
_ZERO = dt.timedelta(0)
_TICK = dt.timedelta(microseconds=1)
_MICROS_PER_HOUR = 3_600_000_000

# chinese_calendar names holidays in English; the bureau reads Chinese.
_HOLIDAY_NAMES_ZH = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}

Hours = Decimal | float | int | dt.timedelta


class CalendarError(ValueError):
    """Bad schedule or bad amount of time; the message is Chinese and meant for the user."""


class DaySource(Enum):
    OVERRIDE = "override"  # a row the bureau entered
    PACKAGE = "chinese_calendar"  # the chinese_calendar package
    WEEKDAYS = "weekdays"  # an ordinary day of a year whose holidays the bureau entered
    FALLBACK = "fallback"  # no holiday data for the year: plain Monday–Friday, with a warning


@dataclass(frozen=True)
class DayOverride:
    is_working_day: bool
    name: str = ""


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    is_working_day: bool
    name: str  # "国庆节", "国庆节调休上班", "" for an ordinary day
    source: DaySource


@dataclass(frozen=True)
class Period:
    """A working period as offsets from local midnight, ``start`` included, ``end`` excluded."""

    start: dt.timedelta
    end: dt.timedelta

    def __str__(self) -> str:
        return f"{_format_offset(self.start)}-{_format_offset(self.end)}"


@dataclass(frozen=True)
class Deadline:
    """A computed moment plus the years it was computed for without holiday data."""

    start: dt.datetime
    due: dt.datetime
    years_without_data: tuple[int, ...]

    @property
    def warnings(self) -> list[str]:
        return [fallback_warning(year) for year in self.years_without_data]


def fallback_warning(year: int) -> str:
    return f"{year} 年节假日未录入，按周一至周五计算"


def _format_offset(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _parse_clock(text: str, whole: str) -> dt.timedelta:
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise CalendarError(f"工作时段「{whole}」格式错误：时间应写成 HH:MM，例如 08:00-12:00。")
    h, m = int(hours), int(minutes)
    if m >= 60 or h > 24 or (h == 24 and m):
        raise CalendarError(f"工作时段「{whole}」中的时间 {text.strip()} 不存在。")
    return dt.timedelta(hours=h, minutes=m)


def parse_periods(text: str) -> list[Period]:
    """Read "08:00-12:00,14:00-18:00" (the ``CHENGGUAN_WORK_PERIODS`` format)."""
    periods: list[Period] = []
    for part in text.replace("，", ",").split(","):
        if not part.strip():
            continue
        begin, sep, end = part.replace("–", "-").replace("—", "-").partition("-")
        if not sep:
            raise CalendarError(f"工作时段「{part.strip()}」格式错误：应写成 开始-结束，例如 08:00-12:00。")
        periods.append(Period(_parse_clock(begin, part.strip()), _parse_clock(end, part.strip())))
    return normalise_periods(periods)


def normalise_periods(
    periods: Iterable[Period | tuple[dt.time | dt.timedelta, dt.time | dt.timedelta]],
) -> list[Period]:
    """Validate and sort periods; touching periods are merged so a period end is never a start."""
    result: list[Period] = []
    for item in periods:
        period = item if isinstance(item, Period) else Period(_as_offset(item[0]), _as_offset(item[1]))
        if not (_ZERO <= period.start < period.end <= _DAY):
            raise CalendarError(f"工作时段 {period} 无效：结束时间须晚于开始时间，且在同一天之内。")
        result.append(period)
    if not result:
        raise CalendarError("至少需要一个工作时段，例如 08:00-12:00,14:00-18:00。")
    result.sort(key=lambda p: p.start)
    merged = [result[0]]
    for period in result[1:]:
        last = merged[-1]
        if period.start < last.end:
            raise CalendarError(f"工作时段 {last} 与 {period} 重叠。")
        if period.start == last.end:
            merged[-1] = Period(last.start, period.end)
        else:
            merged.append(period)
    return merged


def _as_offset(value: dt.time | dt.timedelta) -> dt.timedelta:
    if isinstance(value, dt.timedelta):
        return value
    return dt.timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def to_timedelta(amount: Hours) -> dt.timedelta:
    """Hours (Decimal, float or int) or a timedelta, as an exact non-negative timedelta."""
    if isinstance(amount, dt.timedelta):
        delta = amount
    else:
        if isinstance(amount, bool):
            raise CalendarError("时长应为小时数或时间间隔。")
        try:
            hours = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
        except (InvalidOperation, TypeError, ValueError) as exc:
            raise CalendarError(f"时长「{amount}」不是有效的小时数。") from exc
        if not hours.is_finite():
            raise CalendarError(f"时长「{amount}」不是有效的小时数。")
        micros = (hours * _MICROS_PER_HOUR).to_integral_value(rounding=ROUND_HALF_EVEN)
        try:
            delta = dt.timedelta(microseconds=int(micros))
        except OverflowError as exc:
            raise CalendarError(f"时长「{amount}」过大。") from exc
    if delta < _ZERO:
        raise CalendarError("时长不能为负数。")
    return delta


def hours_of(delta: dt.timedelta) -> Decimal:
    """A timedelta as Decimal hours (exact to the microsecond)."""
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return Decimal(micros) / _MICROS_PER_HOUR


def _package_day(day: dt.date) -> tuple[bool, str] | None:
    """What chinese_calendar says about ``day``, or None if it has no data for that year."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None
    if not name:
        return (not is_holiday, "")
    zh = _HOLIDAY_NAMES_ZH.get(name, name)
    if is_holiday:
        return (False, zh)
    # A named working day is a 调休 make-up day (a Saturday or Sunday worked in exchange).
    return (True, f"{zh}调休上班")


class _Year:
    """One year classified: a flag per day and a running count of working days."""

    __slots__ = ("cumulative", "first_ordinal", "flags", "total", "without_data")

    def __init__(self, first_ordinal: int, flags: list[bool], without_data: bool) -> None:
        self.first_ordinal = first_ordinal
        self.flags = flags
        cumulative = [0]
        for flag in flags:
            cumulative.append(cumulative[-1] + flag)
        self.cumulative = cumulative  # cumulative[i] = working days before day index i
        self.total = cumulative[-1]
        self.without_data = without_data


class WorkCalendar:
    """Working-time arithmetic; thread-safe and meant to be built once and shared.

    ``overrides`` maps a date to ``(is_working_day, name)`` or a :class:`DayOverride`.
    ``known_years`` are years the bureau declares fully entered; by default every year that
    has at least one override counts as entered (the State Council notice is entered as a
    whole), so its remaining dates are plain Monday–Friday without a warning.
    ``use_package=False`` ignores chinese_calendar (for tests and non-mainland calendars).
    """

    def __init__(
        self,
        periods: Iterable[Period | tuple[dt.time | dt.timedelta, dt.time | dt.timedelta]] | str | None = None,
        overrides: Mapping[dt.date, DayOverride | tuple[bool, str]] | None = None,
        *,
        tz: dt.tzinfo = SHANGHAI,
        known_years: Iterable[int] | None = None,
        use_package: bool = True,
    ) -> None:
        if periods is None:
            periods = DEFAULT_PERIODS_TEXT
        self.periods: tuple[Period, ...] = tuple(
            parse_periods(periods) if isinstance(periods, str) else normalise_periods(periods)
        )
        self._starts = [p.start for p in self.periods]
        self._ends = [p.end for p in self.periods]
        # _before[i] = working time in a working day before period i begins.
        self._before: list[dt.timedelta] = []
        total = _ZERO
        for period in self.periods:
            self._before.append(total)
            total += period.end - period.start
        self.day_length: dt.timedelta = total
        self.tz = tz
        self.overrides: dict[dt.date, DayOverride] = {
            day: value if isinstance(value, DayOverride) else DayOverride(bool(value[0]), value[1] or "")
            for day, value in (overrides or {}).items()
        }
        self.known_years: frozenset[int] = frozenset(
            known_years if known_years is not None else {day.year for day in self.overrides}
        )
        self.use_package = use_package
        self._years: dict[int, _Year] = {}
        self._package_years: dict[int, bool] = {}
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ day classification
    @property
    def hours_per_day(self) -> Decimal:
        return hours_of(self.day_length)

    def day(self, day: dt.date) -> DayInfo:
        """Whether ``day`` is a working day, its name and where that came from."""
        return self._classify(day, self._package_knows(day.year))

    def _classify(self, day: dt.date, package_knows: bool) -> DayInfo:
        override = self.overrides.get(day)
        if override is not None:
            return DayInfo(day, override.is_working_day, override.name, DaySource.OVERRIDE)
        if package_knows:
            package = _package_day(day)
            if package is not None:
                return DayInfo(day, package[0], package[1], DaySource.PACKAGE)
        source = DaySource.WEEKDAYS if day.year in self.known_years else DaySource.FALLBACK
        return DayInfo(day, day.weekday() < 5, "", source)

    def _package_knows(self, year: int) -> bool:
        known = self._package_years.get(year)
        if known is None:
            known = self.use_package and _package_day(dt.date(year, 6, 1)) is not None
            self._package_years[year] = known
        return known

    def has_data(self, year: int) -> bool:
        """True if holidays of ``year`` are known (entered by the bureau or in chinese_calendar)."""
        return year in self.known_years or self._package_knows(year)

    def _year(self, year: int) -> _Year:
        table = self._years.get(year)
        if table is None:
            if not dt.MINYEAR < year < dt.MAXYEAR:
                raise CalendarError("日期超出日历可计算的范围。")
            with self._lock:
                table = self._years.get(year)
                if table is None:
                    first = dt.date(year, 1, 1)
                    days = (dt.date(year + 1, 1, 1) - first).days
                    package_knows = self._package_knows(year)
                    flags = [
                        self._classify(first + dt.timedelta(days=i), package_knows).is_working_day
                        for i in range(days)
                    ]
                    table = _Year(first.toordinal(), flags, not self.has_data(year))
                    self._years[year] = table
        return table

    def is_working_day(self, day: dt.date) -> bool:
        table = self._year(day.year)
        return table.flags[day.toordinal() - table.first_ordinal]

    @property
    def unknown_years(self) -> frozenset[int]:
        """Years this calendar has had to compute without holiday data so far."""
        return frozenset(year for year, table in list(self._years.items()) if table.without_data)

    def years_without_data(self, a: dt.datetime | dt.date, b: dt.datetime | dt.date) -> tuple[int, ...]:
        """Years between a and b (inclusive) whose holidays are not known."""
        first, last = self._local_date(a).year, self._local_date(b).year
        if first > last:
            first, last = last, first
        return tuple(year for year in range(first, last + 1) if not self.has_data(year))

    def warnings(self, a: dt.datetime | dt.date, b: dt.datetime | dt.date) -> list[str]:
        return [fallback_warning(year) for year in self.years_without_data(a, b)]

    def _local_date(self, value: dt.datetime | dt.date) -> dt.date:
        if isinstance(value, dt.datetime):
            return self._local(value).date()
        return value

    def _count_working_days(self, first: dt.date, stop: dt.date) -> int:
        """Working days in [first, stop)."""
        if stop <= first:
            return 0
        count = 0
        year, ordinal, stop_ordinal = first.year, first.toordinal(), stop.toordinal()
        while True:
            table = self._year(year)
            begin = ordinal - table.first_ordinal
            end_of_year = table.first_ordinal + len(table.flags)
            if stop_ordinal <= end_of_year:
                return count + table.cumulative[stop_ordinal - table.first_ordinal] - table.cumulative[begin]
            count += table.total - table.cumulative[begin]
            year, ordinal = year + 1, end_of_year

    def _nth_working_day(self, first: dt.date, n: int) -> dt.date:
        """The n-th working day (n >= 1) on or after ``first``."""
        year, ordinal = first.year, first.toordinal()
        while True:
            table = self._year(year)
            begin = ordinal - table.first_ordinal
            available = table.total - table.cumulative[begin]
            if n <= available:
                # First index i with cumulative[i + 1] == cumulative[begin] + n.
                index = bisect.bisect_left(table.cumulative, table.cumulative[begin] + n, lo=begin + 1) - 1
                return dt.date.fromordinal(table.first_ordinal + index)
            n -= available
            year, ordinal = year + 1, table.first_ordinal + len(table.flags)

    # ------------------------------------------------------------------ moments
    def _local(self, moment: dt.datetime) -> dt.datetime:
        """Naive wall-clock time in the calendar's zone."""
        if moment.tzinfo is None or moment.utcoffset() is None:
            return moment
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def _aware(self, local: dt.datetime) -> dt.datetime:
        return local.replace(tzinfo=self.tz)

    def localize(self, moment: dt.datetime) -> dt.datetime:
        """``moment`` as an aware datetime in the calendar's zone (naive is read as local)."""
        return self._aware(self._local(moment))

    def _split(self, local: dt.datetime) -> tuple[dt.date, dt.timedelta]:
        day = local.date()
        return day, local - dt.datetime.combine(day, dt.time())

    def is_working(self, moment: dt.datetime, *, round_the_clock: bool = False) -> bool:
        """True inside a working period (start included, end excluded) of a working day."""
        if round_the_clock:
            return True
        day, offset = self._split(self._local(moment))
        if not self.is_working_day(day):
            return False
        i = bisect.bisect_right(self._starts, offset) - 1
        return i >= 0 and offset < self._ends[i]

    def next_working_moment(self, moment: dt.datetime, *, round_the_clock: bool = False) -> dt.datetime:
        """``moment`` itself if working, else the start of the next working period."""
        local = self._local(moment)
        if round_the_clock or self.is_working(local):
            return self.localize(moment)
        day, offset = self._split(local)
        if self.is_working_day(day):
            i = bisect.bisect_right(self._starts, offset)
            if i < len(self.periods):
                return self._aware(dt.datetime.combine(day, dt.time()) + self._starts[i])
        following = self._nth_working_day(day + _DAY, 1)
        return self._aware(dt.datetime.combine(following, dt.time()) + self._starts[0])

    def _worked_before(self, offset: dt.timedelta) -> dt.timedelta:
        """Working time in a working day from midnight up to ``offset``."""
        i = bisect.bisect_right(self._starts, offset) - 1
        if i < 0:
            return _ZERO
        return self._before[i] + min(offset, self._ends[i]) - self._starts[i]

    def _moment_in_day(self, day: dt.date, worked: dt.timedelta) -> dt.datetime:
        """The earliest moment of working day ``day`` at which ``worked`` (0 < worked <= day_length)
        working time has elapsed since midnight."""
        i = bisect.bisect_left(self._before, worked) - 1  # last period beginning before that amount
        return dt.datetime.combine(day, dt.time()) + self._starts[i] + (worked - self._before[i])

    def add(self, start: dt.datetime, hours: Hours, *, round_the_clock: bool = False) -> dt.datetime:
        """The moment when ``hours`` of working time have elapsed since ``start``.

        Counting starts at the next working moment. The result is inside a working period
        or exactly at the end of one (a 4-hour limit from 08:00 is due at 12:00, not 14:00).
        Zero hours gives ``start`` itself when it is working or a period end, else the next
        working moment. In round-the-clock mode it is plain elapsed-time addition.
        """
        delta = to_timedelta(hours)
        if round_the_clock:
            return (self.localize(start).astimezone(dt.UTC) + delta).astimezone(self.tz)
        local = self._local(start)
        day, offset = self._split(local)
        if delta == _ZERO:
            if self.is_working_day(day):
                i = bisect.bisect_right(self._starts, offset) - 1
                if i >= 0 and offset <= self._ends[i]:
                    return self._aware(local)
            if offset == _ZERO and self._ends[-1] == _DAY and self.is_working_day(day - _DAY):
                # Midnight is also the end of the day before when its last period runs to 24:00:
                # a deadline that fell there stays put, as one at 12:00 or 18:00 does.
                return self._aware(local)
            return self.next_working_moment(local)
        if self.is_working_day(day):
            # Work left today, measured from midnight so the arithmetic is the same as below.
            worked = self._worked_before(offset)
            if delta <= self.day_length - worked:
                return self._aware(self._moment_in_day(day, worked + delta))
            delta -= self.day_length - worked
        # delta > 0 now. Skip the whole working days that fit strictly before the last one.
        whole_days = (delta - _TICK) // self.day_length
        target = self._nth_working_day(day + _DAY, whole_days + 1)
        return self._aware(self._moment_in_day(target, delta - whole_days * self.day_length))

    def add_days(
        self, start: dt.datetime, days: int | Decimal, *, round_the_clock: bool = False
    ) -> dt.datetime:
        """``days`` working days = days × (hours per working day) of working time.

        In round-the-clock mode a day is 24 hours, the only meaning a day has on a clock
        that never stops.
        """
        amount = Decimal(days)
        if round_the_clock:
            return self.add(start, amount * 24, round_the_clock=True)
        return self.add(start, amount * self.hours_per_day)

    def between(self, a: dt.datetime, b: dt.datetime, *, round_the_clock: bool = False) -> dt.timedelta:
        """Working time elapsed from ``a`` to ``b`` (zero if ``b`` is not after ``a``)."""
        if round_the_clock:
            elapsed = self.localize(b) - self.localize(a)
            return max(elapsed, _ZERO)
        la, lb = self._local(a), self._local(b)
        if lb <= la:
            return _ZERO
        day_a, off_a = self._split(la)
        day_b, off_b = self._split(lb)
        if day_a == day_b:
            if not self.is_working_day(day_a):
                return _ZERO
            return self._worked_before(off_b) - self._worked_before(off_a)
        total = _ZERO
        if self.is_working_day(day_a):
            total += self.day_length - self._worked_before(off_a)
        total += self._count_working_days(day_a + _DAY, day_b) * self.day_length
        if self.is_working_day(day_b):
            total += self._worked_before(off_b)
        return total

    def between_hours(self, a: dt.datetime, b: dt.datetime, *, round_the_clock: bool = False) -> Decimal:
        return hours_of(self.between(a, b, round_the_clock=round_the_clock))

    def deadline(self, start: dt.datetime, hours: Hours, *, round_the_clock: bool = False) -> Deadline:
        """:meth:`add` plus the years the computation relied on Monday–Friday for."""
        due = self.add(start, hours, round_the_clock=round_the_clock)
        missing = () if round_the_clock else self.years_without_data(start, due)
        return Deadline(self.localize(start), due, missing)

    def working_days_between(self, first: dt.date, last: dt.date) -> int:
        """Working days from ``first`` to ``last``, both included."""
        return self._count_working_days(first, last + _DAY)


__all__ = [
    "DEFAULT_PERIODS_TEXT",
    "SHANGHAI",
    "CalendarError",
    "DayInfo",
    "DayOverride",
    "DaySource",
    "Deadline",
    "Period",
    "WorkCalendar",
    "fallback_warning",
    "hours_of",
    "parse_periods",
    "to_timedelta",
]
