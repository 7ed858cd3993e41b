"""Routing against the rules in the database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    found = (index or load_index()).route(
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
