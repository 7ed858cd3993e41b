"""Routing against the rules in the database.

The rule index is built once per process and rebuilt when the rules change: every dispatch
reads the rules' markers (how many there are and when one was last changed, and the same for
their co-handler links) in one query, so a rule changed through any app server is used by the
next dispatch everywhere, without a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Prefetch

from chengguan.catalog.models import Category
from chengguan.org.models import TERRITORIAL_KINDS, OrgUnit
from chengguan.routing.models import RoutingRule
from chengguan.routing.routing import Place, Rule, RuleIndex, gaps


def load_index() -> RuleIndex:
    rules = RoutingRule.objects.filter(active=True).prefetch_related(
        Prefetch("co_handlers", queryset=OrgUnit.objects.only("id"))
    )
    return RuleIndex(
        Rule(
            id=r.pk,
            category_id=r.category_id,
            lead_unit_id=r.lead_unit_id,
            territory_id=r.territory_id,
            grid_code=r.grid_code,
            co_handler_ids=tuple(sorted(u.pk for u in r.co_handlers.all())),
        )
        for r in rules
    )


_lock = threading.Lock()
_cached: tuple[tuple[Any, ...], RuleIndex] | None = None


def _rules_key() -> tuple[Any, ...]:
    q = connection.ops.quote_name
    rules = q(RoutingRule._meta.db_table)
    links = q(RoutingRule.co_handlers.through._meta.db_table)
    # A new or edited rule moves MAX(updated_at) (every write path saves the rule, bulk
    # imports included), a deleted one the count. Co-handler links carry no time: an added
    # link gets a higher id (ids are never reused: AUTOINCREMENT on SQLite, sequences on
    # PostgreSQL), a removed one lowers the count.
    sql = (
        f"SELECT (SELECT COUNT(*) FROM {rules}), (SELECT MAX(updated_at) FROM {rules}), "
        f"(SELECT COUNT(*) FROM {links}), (SELECT MAX(id) FROM {links})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        row = cursor.fetchone()
    return (connection.alias, connection.settings_dict.get("NAME"), *row)


def current_index() -> RuleIndex:
    """The routing index of the rules as they are now (one query unless they changed)."""
    global _cached
    key = _rules_key()
    cached = _cached
    if cached is not None and cached[0] == key:
        return cached[1]
    index = load_index()  # read after the key: never older than it
    with _lock:
        _cached = (key, index)
    return index


def forget_index() -> None:
    global _cached
    with _lock:
        _cached = None


@dataclass(frozen=True)
class RouteAnswer:
    lead_unit: OrgUnit
    co_handlers: list[OrgUnit]
    rule: RoutingRule
    reason: str


def route(
    category: Category,
    *,
    territory: OrgUnit | None = None,
    grid_codes: Sequence[str] = (),
    index: RuleIndex | None = None,
) -> RouteAnswer | None:
    """The units that handle ``category`` at a place, and the rule that decided it."""
    found = (index or current_index()).route(
        category.pk, Place(territory_id=territory.pk if territory else None, grid_codes=tuple(grid_codes))
    )
    if found is None:
        return None
    rule = RoutingRule.objects.select_related("lead_unit").get(pk=found.rule.id)
    co = list(OrgUnit.objects.filter(pk__in=found.co_handler_ids).order_by("code"))
    return RouteAnswer(lead_unit=rule.lead_unit, co_handlers=co, rule=rule, reason=found.reason)


@dataclass(frozen=True)
class Gap:
    category: Category
    territory: OrgUnit


def unrouted() -> list[Gap]:
    """Every active category with no route in some active town/subdistrict."""
    categories = {c.pk: c for c in Category.objects.filter(active=True)}
    territories = {t.pk: t for t in OrgUnit.objects.filter(kind__in=TERRITORIAL_KINDS, active=True)}
    missing = gaps(load_index(), sorted(categories), sorted(territories))
    return [Gap(categories[c], territories[t]) for c, t in missing]
