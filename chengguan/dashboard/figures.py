"""The dashboard's formulas and periods, in plain Python (no ORM, no HTTP).

Every figure the dashboard shows is built from a few additive counts per group of cases
(:class:`Measures`), so the same counts can come from the case table or from the daily
summary table and be added up across days, units or channels. The rates follow the
indicator table of the national evaluation practice (STANDARDS.md §5a):

* 应结案数 (``valid``): cases reported in the period that were not refused — not 不予立案,
  not 作废, not 重复. 结案率 = 结案数 / 应结案数.
* 按期处置率 = 按期反馈数 / 已反馈数: of the cases whose handling unit reported back, the share
  that reported back before the handling deadline (the last report-back counts after a rework).
* 返工率 = 返工案件数 / 应结案数; 延期率 = 延期案件数 / 应结案数; 满意率 = 评价 4–5 星 / 已评价.
* 同比 compares with the same dates one year earlier; 环比 with the period just before, of the
  same kind (yesterday, last week, last month …) and the same number of elapsed days.
"""

from __future__ import annotations

import calendar as pycalendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from enum import StrEnum

# The 721 working method: 70 % service, 20 % management, 10 % enforcement.
TARGET_721: dict[str, float] = {"service": 70.0, "management": 20.0, "enforcement": 10.0}
MODE_LABELS: dict[str, str] = {"service": "服务", "management": "管理", "enforcement": "执法"}

# A unit's light: red when this share of its open cases (or more) is overdue.
RED_OVERDUE_SHARE = 0.10


@dataclass
class Measures:
    """Additive counts for one group of cases (one day, unit, channel …)."""

    reported: int = 0  # 上报（受理）数
    valid: int = 0  # 应结案数：未被不予立案、作废或判为重复
    closed: int = 0  # 结案数
    handled: int = 0  # 已反馈数（处置单位已反馈）
    on_time: int = 0  # 按期反馈数
    reworked: int = 0  # 返工案件数
    extended: int = 0  # 延期案件数
    rated: int = 0  # 已评价数
    satisfied: int = 0  # 评价 4–5 星数

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    @classmethod
    def of(cls, row: Mapping[str, object]) -> Measures:
        return cls(**{name: int(row.get(name) or 0) for name in cls.names()})  # type: ignore[call-overload]

    def __add__(self, other: Measures) -> Measures:
        return Measures(*(getattr(self, n) + getattr(other, n) for n in self.names()))

    @property
    def closure_rate(self) -> float | None:
        return rate(self.closed, self.valid)

    @property
    def on_time_rate(self) -> float | None:
        return rate(self.on_time, self.handled)

    @property
    def rework_rate(self) -> float | None:
        return rate(self.reworked, self.valid)

    @property
    def extension_rate(self) -> float | None:
        return rate(self.extended, self.valid)

    @property
    def satisfaction_rate(self) -> float | None:
        return rate(self.satisfied, self.rated)


def total(items: Iterable[Measures]) -> Measures:
    result = Measures()
    for item in items:
        result = result + item
    return result


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` in per cent, or ``None`` when there is nothing to divide by."""
    if whole <= 0:
        return None
    return 100.0 * part / whole


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change in per cent (同比/环比 of a count); ``None`` when there is no base."""
    if current is None or previous is None or previous == 0:
        return None
    return 100.0 * (current - previous) / previous


def point_change(current: float | None, previous: float | None) -> float | None:
    """Change of a rate in percentage points (同比/环比 of a rate)."""
    if current is None or previous is None:
        return None
    return current - previous


def round_or_none(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


# -- 721 ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MixRow:
    mode: str
    label: str
    count: int
    share: float | None  # per cent of all classified cases
    target: float
    gap: float | None  # share − target, in percentage points


def mix_721(counts: Mapping[str, int]) -> list[MixRow]:
    """The service/management/enforcement split against the 70/20/10 target."""
    whole = sum(counts.get(mode, 0) for mode in TARGET_721)
    rows = []
    for mode, target in TARGET_721.items():
        share = rate(counts.get(mode, 0), whole)
        rows.append(
            MixRow(mode, MODE_LABELS[mode], counts.get(mode, 0), share, target, point_change(share, target))
        )
    return rows


def mix_distance(counts: Mapping[str, int]) -> float | None:
    """How far a mix is from 70/20/10: half the sum of absolute gaps (0 = on target, 100 = opposite)."""
    rows = mix_721(counts)
    if any(row.gap is None for row in rows):
        return None
    return sum(abs(row.gap or 0.0) for row in rows) / 2


# -- lights ---------------------------------------------------------------------------------


class UnitLight(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


def unit_light(open_cases: int, overdue: int) -> UnitLight:
    """Green with no overdue case, red when 10 % or more of the open cases are overdue."""
    if overdue <= 0 or open_cases <= 0:
        return UnitLight.GREEN
    if overdue / open_cases >= RED_OVERDUE_SHARE:
        return UnitLight.RED
    return UnitLight.YELLOW


# -- periods --------------------------------------------------------------------------------


class PeriodKind(StrEnum):
    TODAY = "today"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    CUSTOM = "custom"


@dataclass(frozen=True)
class Period:
    """Local dates ``[start, end)``; ``end`` never lies after tomorrow (periods run to date)."""

    kind: PeriodKind
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.days == 1:
            return f"{self.start:%Y-%m-%d}"
        return f"{self.start:%Y-%m-%d} 至 {self.last_day:%Y-%m-%d}"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end


def shift_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (earlier when negative), clamped to the month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = pycalendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _nominal(kind: PeriodKind, today: dt.date) -> tuple[dt.date, dt.date]:
    if kind is PeriodKind.TODAY:
        return today, today + dt.timedelta(days=1)
    if kind is PeriodKind.WEEK:
        monday = today - dt.timedelta(days=today.weekday())
        return monday, monday + dt.timedelta(days=7)
    if kind is PeriodKind.MONTH:
        first = today.replace(day=1)
        return first, shift_months(first, 1)
    if kind is PeriodKind.QUARTER:
        first = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return first, shift_months(first, 3)
    if kind is PeriodKind.YEAR:
        return dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)
    raise ValueError(kind)


def period_for(
    kind: PeriodKind | str,
    today: dt.date,
    start: dt.date | None = None,
    last: dt.date | None = None,
) -> Period:
    """The period of ``kind`` containing ``today``, run to date; custom periods give first and last day."""
    kind = PeriodKind(kind)
    if kind is PeriodKind.CUSTOM:
        if start is None or last is None:
            raise ValueError("custom periods need a first and a last day")
        if last < start:
            start, last = last, start
        return Period(kind, start, last + dt.timedelta(days=1))
    first, end = _nominal(kind, today)
    return Period(kind, first, min(end, today + dt.timedelta(days=1)))


def previous_period(period: Period) -> Period:
    """环比: the period just before, with as many elapsed days (a partial month against the
    same days of the month before)."""
    months = {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}.get(period.kind)
    if months is not None:
        return Period(period.kind, shift_months(period.start, -months), _shift_end(period, -months))
    days = {PeriodKind.TODAY: 1, PeriodKind.WEEK: 7}.get(period.kind, period.days)
    delta = dt.timedelta(days=days)
    return Period(period.kind, period.start - delta, period.end - delta)


def year_earlier(period: Period) -> Period:
    """同比: the same dates one year earlier (29 February becomes the 28th)."""
    return Period(period.kind, shift_months(period.start, -12), _shift_end(period, -12))


def _shift_end(period: Period, months: int) -> dt.date:
    # A period ending on a month boundary keeps ending on one (all of February, not 1–28 March).
    if period.end.day == 1:
        return shift_months(period.end, months)
    return shift_months(period.last_day, months) + dt.timedelta(days=1)


def month_starts(last_month: dt.date, count: int) -> list[dt.date]:
    """The first days of ``count`` months ending with the month of ``last_month``, oldest first."""
    first = last_month.replace(day=1)
    return [shift_months(first, -k) for k in range(count - 1, -1, -1)]
