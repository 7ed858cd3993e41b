"""Deriving each category's sample settings and time limits from scoped rows, in plain Python.

The shipped sample files do not list 403 categories one by one: a row names a *scope* —
all categories, one kind, one major class, or one category (optionally of one kind) — and the
most specific scope wins, like a style sheet:

    (all) < (kind) < (major) < (kind + major) < (code) < (kind + code)

Settings cascade field by field (a blank cell inherits). Time limits are taken step by step:
the most specific scope that gives any row for a step gives *all* rows of that step, so a
category never mixes its own handling limits with half of its major class's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chengguan.catalog.limits import STEPS

# The local fields of a category the sample settings file may fill.
SETTING_FIELDS = (
    "domain",
    "assessment_tier",
    "disposition_mode",
    "round_the_clock",
    "public",
    "legal_basis",
    "registration_criteria",
    "closure_criteria",
)
BOOLEAN_SETTINGS = frozenset({"round_the_clock", "public"})


@dataclass(frozen=True)
class Scope:
    kind: str = ""  # "" = both kinds
    code: str = ""  # "" = all, 2 digits = a major class, 5 digits = one category

    def matches(self, kind: str, code: str) -> bool:
        return (not self.kind or self.kind == kind) and code.startswith(self.code)

    @property
    def rank(self) -> tuple[int, int]:
        return (len(self.code), 1 if self.kind else 0)

    def label(self) -> str:
        kinds = {"": "部件和事项", "component": "部件", "matter": "事项"}
        if not self.code:
            where = "全部"
        elif len(self.code) == 2:
            where = f"大类 {self.code}"
        else:
            where = f"类别 {self.code}"
        return f"{kinds.get(self.kind, self.kind)}·{where}"


@dataclass(frozen=True)
class SettingsRow:
    scope: Scope
    values: Mapping[str, Any]  # only the cells that were filled
    line: int = 0


@dataclass(frozen=True)
class LimitSample:
    scope: Scope
    step: str
    area_class: str
    work_kind: str
    hours: Decimal
    source: str = ""
    line: int = 0


@dataclass
class Resolved:
    settings: dict[str, Any] = field(default_factory=dict)
    limits: list[LimitSample] = field(default_factory=list)


def resolve_settings(rows: Iterable[SettingsRow], kind: str, code: str) -> dict[str, Any]:
    applicable = sorted((r for r in rows if r.scope.matches(kind, code)), key=lambda r: r.scope.rank)
    result: dict[str, Any] = {}
    for row in applicable:  # least specific first, so the most specific writes last
        result.update(row.values)
    return result


def resolve_limits(rows: Iterable[LimitSample], kind: str, code: str) -> list[LimitSample]:
    by_step: dict[str, list[LimitSample]] = {}
    for row in rows:
        if row.scope.matches(kind, code):
            by_step.setdefault(row.step, []).append(row)
    chosen: list[LimitSample] = []
    for step in STEPS:
        candidates = by_step.get(step, [])
        if not candidates:
            continue
        top = max(r.scope.rank for r in candidates)
        chosen.extend(r for r in candidates if r.scope.rank == top)
    return chosen


def duplicate_scopes(rows: Iterable[SettingsRow]) -> list[tuple[int, Scope]]:
    """Lines whose scope an earlier line already gave (which one would win is unclear)."""
    seen: set[Scope] = set()
    dupes: list[tuple[int, Scope]] = []
    for row in rows:
        if row.scope in seen:
            dupes.append((row.line, row.scope))
        seen.add(row.scope)
    return dupes


def duplicate_limits(rows: Iterable[LimitSample]) -> list[LimitSample]:
    seen: set[tuple[Scope, str, str, str]] = set()
    dupes: list[LimitSample] = []
    for row in rows:
        key = (row.scope, row.step, row.area_class, row.work_kind)
        if key in seen:
            dupes.append(row)
        seen.add(key)
    return dupes
