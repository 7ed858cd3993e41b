"""Choosing the time limit that applies to a step of a case, in plain Python.

A category carries limit rows per workflow step; a row may name an area class (A/B/C) and a
kind of work (一般性/工程性/特殊性), and a blank means "any". For a case the most specific
applicable row wins: exact area + kind > area only > kind only > generic. A row naming an area
or kind that differs from the case's does not apply at all.

The vocabularies here mirror ``models.Step``, ``AreaClass`` and ``WorkKind`` (a test keeps
them equal) so the case workflow and the importers can use them without the ORM.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

STEPS = ("verify", "register", "dispatch", "handle", "check")
STEP_LABELS = {"核实": "verify", "立案": "register", "派遣": "dispatch", "处置": "handle", "核查": "check"}
AREA_CLASSES = ("A", "B", "C")
WORK_KINDS = ("ordinary", "engineering", "special")
WORK_KIND_LABELS = {
    "一般性": "ordinary",
    "一般": "ordinary",
    "工程性": "engineering",
    "工程": "engineering",
    "特殊性": "special",
    "特殊": "special",
}

# 1 工作日 = 8 工作时 (the clock rule of the systems studied, STANDARDS.md §3).
HOURS_PER_WORKING_DAY = Decimal(8)
# Mirrors TimeLimit.hours (max_digits=7, decimal_places=2).
MAX_HOURS = Decimal("99999.99")

_HOURS_TEXT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(工作时|小时|h|工作日)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class LimitRow:
    step: str
    area_class: str  # "" = any area
    work_kind: str  # "" = any kind of work
    hours: Decimal


def specificity(row: LimitRow) -> int:
    """3 = area and kind, 2 = area only, 1 = kind only, 0 = generic."""
    return (2 if row.area_class else 0) + (1 if row.work_kind else 0)


def applies(row: LimitRow, step: str, area_class: str, work_kind: str) -> bool:
    return (
        row.step == step
        and (not row.area_class or row.area_class == area_class)
        and (not row.work_kind or row.work_kind == work_kind)
    )


def choose_limit(
    rows: Iterable[LimitRow], step: str, area_class: str = "", work_kind: str = ""
) -> LimitRow | None:
    """The applicable row with the highest specificity, or ``None`` when none applies.

    Two rows with the same area and kind should not exist (the table has a unique key); if a
    caller passes some anyway, the shorter limit is taken so the answer never depends on
    the order of the rows.
    """
    best: LimitRow | None = None
    for row in rows:
        if not applies(row, step, area_class, work_kind):
            continue
        if best is None or (specificity(row), -row.hours) > (specificity(best), -best.hours):
            best = row
    return best


def limit_key(step: str, area_class: str, work_kind: str) -> str:
    """The text key of a limit row within its category, as the loader's snapshot stores it."""
    return f"{step}|{area_class}|{work_kind}"


def parse_step(text: str) -> str | None:
    word = text.strip()
    if word.lower() in STEPS:
        return word.lower()
    return STEP_LABELS.get(word)


def parse_area_class(text: str) -> str | None:
    """ "" for blank (any area); A/B/C also when written as "A类" or "A类（核心区）"."""
    word = text.strip().upper()
    if not word:
        return ""
    letter = word[0]
    if letter in AREA_CLASSES and (len(word) == 1 or word[1] == "类"):
        return letter
    return None


def parse_work_kind(text: str) -> str | None:
    word = text.strip()
    if not word:
        return ""
    if word.lower() in WORK_KINDS:
        return word.lower()
    return WORK_KIND_LABELS.get(word)


def parse_hours(text: str) -> tuple[Decimal | None, str]:
    """Hours from "4", "4.5", "4工作时" or "2工作日" (× 8), with a message when unusable."""
    match = _HOURS_TEXT.match(text)
    if not match:
        return None, f"“{text}”不是时限，请填写正数的工作时，例如 4 或 2.5（也可写 2工作日）"
    try:
        value = Decimal(match.group(1))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimal numbers
        return None, f"“{text}”不是数字"
    if match.group(2) == "工作日":
        value *= HOURS_PER_WORKING_DAY
    if value <= 0:
        return None, "时限必须大于 0"
    if value != value.quantize(Decimal("0.01")):
        return None, "时限最多保留两位小数"
    if value > MAX_HOURS:
        return None, f"时限不能超过 {MAX_HOURS} 工作时"
    return value.quantize(Decimal("0.01")), ""
