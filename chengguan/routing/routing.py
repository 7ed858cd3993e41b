"""Choosing the responsible units for a problem: plain rules, no database.

A rule applies to one category at one of three kinds of place. The most specific place wins:
a rule for one of the case's grid cells (the finest level first) beats a rule for its
town/subdistrict, which beats the district-wide default. The answer carries the rule that
matched so the dispatcher can see why a case goes where it goes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import IntEnum


class Precedence(IntEnum):
    DISTRICT = 1
    TERRITORY = 2
    GRID = 3


@dataclass(frozen=True)
class Rule:
    id: int
    category_id: int
    lead_unit_id: int
    territory_id: int | None = None
    grid_code: str = ""
    co_handler_ids: tuple[int, ...] = ()

    @property
    def precedence(self) -> Precedence:
        if self.grid_code:
            return Precedence.GRID
        if self.territory_id is not None:
            return Precedence.TERRITORY
        return Precedence.DISTRICT


@dataclass(frozen=True)
class Place:
    """Where a problem is: its town/subdistrict and its grid cells, finest level first."""

    territory_id: int | None = None
    grid_codes: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class Route:
    rule: Rule
    reason: str

    @property
    def lead_unit_id(self) -> int:
        return self.rule.lead_unit_id

    @property
    def co_handler_ids(self) -> tuple[int, ...]:
        return self.rule.co_handler_ids


class RuleIndex:
    """Rules of one matrix, indexed for constant-time lookup per (category, place)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.by_grid: dict[tuple[int, str], Rule] = {}
        self.by_territory: dict[tuple[int, int], Rule] = {}
        self.default: dict[int, Rule] = {}
        for rule in rules:
            if rule.precedence is Precedence.GRID:
                self._put(self.by_grid, (rule.category_id, rule.grid_code), rule)
            elif rule.precedence is Precedence.TERRITORY:
                assert rule.territory_id is not None
                self._put(self.by_territory, (rule.category_id, rule.territory_id), rule)
            else:
                self._put(self.default, rule.category_id, rule)

    @staticmethod
    def _put(index: dict, key: object, rule: Rule) -> None:
        # Two rules for the same place are a data error the database forbids; if they ever
        # arrive here, the lower id wins so the answer does not depend on load order.
        existing = index.get(key)
        if existing is None or rule.id < existing.id:
            index[key] = rule

    def route(self, category_id: int, place: Place) -> Route | None:
        for code in place.grid_codes:
            rule = self.by_grid.get((category_id, code))
            if rule is not None:
                return Route(rule, f"网格 {code} 的专门规则")
        if place.territory_id is not None:
            rule = self.by_territory.get((category_id, place.territory_id))
            if rule is not None:
                return Route(rule, "所属镇街的规则")
        rule = self.default.get(category_id)
        if rule is not None:
            return Route(rule, "全区默认规则")
        return None


def route(rules: Iterable[Rule], category_id: int, place: Place) -> Route | None:
    return RuleIndex(rules).route(category_id, place)


def gaps(
    index: RuleIndex, category_ids: Iterable[int], territory_ids: Iterable[int]
) -> list[tuple[int, int]]:
    """Every (category, territory) pair that no rule covers."""
    territories = list(territory_ids)
    missing: list[tuple[int, int]] = []
    for category_id in category_ids:
        if category_id in index.default:
            continue
        for territory_id in territories:
            if (category_id, territory_id) not in index.by_territory:
                missing.append((category_id, territory_id))
    return missing
