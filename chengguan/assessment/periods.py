"""Assessment periods (month, quarter, year) as plain values."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

KINDS = ("month", "quarter", "year")


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date  # exclusive

    @classmethod
    def of(cls, kind: str, day: dt.date) -> Period:
        """The period of ``kind`` that contains ``day``."""
        if kind == "month":
            start = day.replace(day=1)
            end = _add_months(start, 1)
        elif kind == "quarter":
            start = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
            end = _add_months(start, 3)
        elif kind == "year":
            start = day.replace(month=1, day=1)
            end = start.replace(year=start.year + 1)
        else:
            raise ValueError(f"未知的考评周期“{kind}”（应为 month、quarter 或 year）")
        return cls(kind, start, end)

    def previous(self) -> Period:
        return Period.of(self.kind, self.start - dt.timedelta(days=1))

    def bounds(self, tz: str = "Asia/Shanghai") -> tuple[dt.datetime, dt.datetime]:
        """The period as aware datetimes [start, end) in the district's time zone."""
        zone = ZoneInfo(tz)
        return (
            dt.datetime.combine(self.start, dt.time(), tzinfo=zone),
            dt.datetime.combine(self.end, dt.time(), tzinfo=zone),
        )

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year} 年 {self.start.month} 月"
        if self.kind == "quarter":
            return f"{self.start.year} 年第 {(self.start.month - 1) // 3 + 1} 季度"
        return f"{self.start.year} 年度"


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def parse_period(kind: str, text: str) -> Period:
    """``2026-03`` (month), ``2026-Q1`` (quarter), ``2026`` (year), or any date in the period."""
    text = text.strip()
    try:
        if kind == "quarter" and "Q" in text.upper():
            year, quarter = text.upper().split("Q")
            number = int(quarter)
            if not 1 <= number <= 4:
                raise ValueError
            return Period.of(kind, dt.date(int(year.strip("-")), (number - 1) * 3 + 1, 1))
        if len(text) == 4:
            return Period.of(kind, dt.date(int(text), 1, 1))
        if len(text) == 7:
            return Period.of(kind, dt.date.fromisoformat(text + "-01"))
        return Period.of(kind, dt.date.fromisoformat(text))
    except ValueError:
        raise ValueError(f"无法识别的期间“{text}”：月度如 2026-03，季度如 2026-Q1，年度如 2026") from None
