"""Reads of the catalogue: categories by code, applicable time limits, powers in force."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q

from chengguan.catalog.limits import LimitRow, choose_limit
from chengguan.catalog.models import Category, LegacyCode, PowerItem, TimeLimit
from chengguan.org.models import FunctionalDomain


def category_keys() -> set[tuple[str, str]]:
    return set(Category.objects.values_list("kind", "code"))


def categories_by_key() -> dict[tuple[str, str], Category]:
    return {(c.kind, c.code): c for c in Category.objects.all()}


def category_by_code(kind: str, code: str) -> Category | None:
    return Category.objects.filter(kind=kind, code=code).first()


def domain_lookup() -> dict[str, str]:
    """Every spelling of a functional domain an import accepts (code or name) -> its code."""
    lookup: dict[str, str] = {}
    for code, name in FunctionalDomain.objects.values_list("code", "name"):
        lookup[code] = code
        lookup[name] = code
    return lookup


def time_limit_rows(category: Category) -> list[LimitRow]:
    """The category's limit rows as plain data (uses a prefetch of ``time_limits`` if present)."""
    return [
        LimitRow(row.step, row.area_class, row.work_kind, row.hours) for row in category.time_limits.all()
    ]


def time_limit_hours(
    category: Category | int, step: str, area_class: str = "", work_kind: str = ""
) -> Decimal | None:
    """Working hours allowed for ``step`` of a case in this category, area class and kind of
    work, by the most specific applicable row; ``None`` when the category sets no limit."""
    category_id = category if isinstance(category, int) else category.pk
    rows = [
        LimitRow(step_, area, kind, hours)
        for step_, area, kind, hours in TimeLimit.objects.filter(
            category_id=category_id, step=step
        ).values_list("step", "area_class", "work_kind", "hours")
    ]
    chosen = choose_limit(rows, step, area_class, work_kind)
    return chosen.hours if chosen else None


def legacy_category(kind: str, old_code: str) -> Category | None:
    """The 2026 category a GB/T 30428.2-2013 code corresponds to, if any."""
    legacy = LegacyCode.objects.select_related("category").filter(kind=kind, code=old_code).first()
    return legacy.category if legacy else None


def powers_in_force(on: dt.date) -> list[PowerItem]:
    """One version per power code: the latest one in force on ``on``.

    A version runs from ``effective_from`` to ``effective_to`` (inclusive, open when blank);
    a later version of the same code supersedes an earlier open-ended one.
    """
    candidates = (
        PowerItem.objects.filter(effective_from__lte=on)
        .filter(Q(effective_to__isnull=True) | Q(effective_to__gte=on))
        .select_related("domain")
        .order_by("code", "-effective_from")
    )
    chosen: dict[str, PowerItem] = {}
    for item in candidates:
        chosen.setdefault(item.code, item)
    return list(chosen.values())
