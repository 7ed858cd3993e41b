"""Reading one row of a holiday file (日期, 是否工作日, 名称, 来源, 备注) — plain Python.

Clerks type dates and yes/no in many ways; every accepted spelling is listed here so the
error message can name them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

COLUMN_DATE = "日期"
COLUMN_WORKING = "是否工作日"
COLUMN_NAME = "名称"
COLUMN_SOURCE = "来源"
COLUMN_NOTE = "备注"
REQUIRED_COLUMNS = (COLUMN_DATE, COLUMN_WORKING, COLUMN_NAME)
NAME_MAX = 60
SOURCE_MAX = 200

_WORKING = {"是", "y", "yes", "true", "1", "工作日", "上班", "班", "调休上班"}
_NOT_WORKING = {"否", "n", "no", "false", "0", "休息日", "节假日", "放假", "休", "休息"}
# 2027-01-01, 2027/1/1, 2027.1.1, 2027年1月1日; Excel dates arrive as "2027-01-01 00:00:00".
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]00:00(?::00)?)?$")


@dataclass(frozen=True)
class DayRow:
    line: int
    date: dt.date
    is_working_day: bool
    name: str
    source: str
    note: str


def parse_date(text: str) -> dt.date:
    match = _DATE.match(text.strip())
    if not match:
        raise ValueError(f"「{text}」不是日期，请写成 2027-01-01 的形式。")
    year, month, day = (int(part) for part in match.groups())
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"日期「{text}」不存在。") from None


def parse_working(text: str) -> bool:
    value = text.strip().lower()
    if value in _WORKING:
        return True
    if value in _NOT_WORKING:
        return False
    raise ValueError(f"「{text}」无法识别，请填“是”（上班）或“否”（放假）。")


def parse_row(line: int, row: dict[str, str]) -> tuple[DayRow | None, list[tuple[str, str]]]:
    """The row, or None with (column, message) for every problem in it."""
    errors: list[tuple[str, str]] = []
    if row.get("__extra__"):
        errors.append(("", "该行的列数多于表头。"))
    date: dt.date | None = None
    working: bool | None = None
    try:
        date = parse_date(row.get(COLUMN_DATE, ""))
    except ValueError as exc:
        errors.append((COLUMN_DATE, str(exc)))
    try:
        working = parse_working(row.get(COLUMN_WORKING, ""))
    except ValueError as exc:
        errors.append((COLUMN_WORKING, str(exc)))
    name = row.get(COLUMN_NAME, "").strip()
    if not name:
        errors.append((COLUMN_NAME, "名称不能为空，例如“元旦”或“春节调休上班”。"))
    elif len(name) > NAME_MAX:
        errors.append((COLUMN_NAME, f"名称不能超过 {NAME_MAX} 个字。"))
    source = row.get(COLUMN_SOURCE, "").strip()
    if len(source) > SOURCE_MAX:
        errors.append((COLUMN_SOURCE, f"来源不能超过 {SOURCE_MAX} 个字。"))
    if errors or date is None or working is None:
        return None, errors
    return DayRow(line, date, working, name, source, row.get(COLUMN_NOTE, "").strip()), []
