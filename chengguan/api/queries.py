"""Read queries behind the API (the API's own reads; case scoping comes from cases.selectors).

Open311 is public: it shows the cases that came from the public (citizens' web page, hotline,
Open311 apps, media), never patrol reports, and never a reporter's contact details.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from chengguan.api.models import ApiKey, ServiceAttribute
from chengguan.cases.models import PUBLIC_CHANNELS, Case, CaseEvent, CitizenContact
from chengguan.cases.selectors import ScopeKind, Viewer, viewer_of
from chengguan.cases.services import Who
from chengguan.cases.workflow import FINAL
from chengguan.catalog.models import Category

OPEN311_LIMIT = 1000


# -- Open311 ---------------------------------------------------------------------------------


def open311_services() -> list[tuple[Category, bool]]:
    """Public, active categories and whether each has a service definition worth reading."""
    rows = (
        Category.objects.filter(active=True, public=True)
        .select_related("domain")
        .annotate(has_attributes=Exists(ServiceAttribute.objects.filter(category=OuterRef("pk"))))
        .order_by("kind", "code")
    )
    return [(c, bool(c.has_attributes) or bool(c.registration_criteria.strip())) for c in rows]


def open311_category(kind: str, code: str) -> Category | None:
    return Category.objects.filter(kind=kind, code=code, active=True, public=True).first()


def attributes_of(category: Category) -> list[ServiceAttribute]:
    return list(ServiceAttribute.objects.filter(category=category).order_by("order", "code"))


def public_cases() -> QuerySet[Case]:
    return Case.objects.filter(channel__in=[c.value for c in PUBLIC_CHANNELS])


def _request_rows(qs: QuerySet[Case]) -> QuerySet[Case]:
    return qs.select_related("category", "lead_unit", "open311").defer(
        "category__legal_basis",
        "category__registration_criteria",
        "category__closure_criteria",
        "category__shipped",
        "lead_unit__note",
        "open311__attributes",
    )


def public_request(code: str) -> Case | None:
    return _request_rows(public_cases().filter(code=code)).first()


def public_requests(
    *,
    ids: Sequence[str] = (),
    categories: Sequence[tuple[str, str]] = (),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    statuses: Sequence[str] = (),
    limit: int = OPEN311_LIMIT,
) -> list[Case]:
    """GET requests: ids override everything else; otherwise codes, window and status."""
    qs = public_cases()
    if ids:
        qs = qs.filter(code__in=list(ids))
    else:
        if categories:
            match = Q(pk__in=[])
            for kind, code in categories:
                match |= Q(category__kind=kind, category__code=code)
            qs = qs.filter(match)
        if start is not None:
            qs = qs.filter(reported_at__gte=start)
        if end is not None:
            qs = qs.filter(reported_at__lte=end)
        wanted = set(statuses)
        if wanted == {"open"}:
            qs = qs.exclude(status__in=[s.value for s in FINAL])
        elif wanted == {"closed"}:
            qs = qs.filter(status__in=[s.value for s in FINAL])
    return list(_request_rows(qs).order_by("-reported_at", "-pk")[:limit])


def code_for_token(token: str) -> str | None:
    return (
        CitizenContact.objects.filter(
            follow_token=token, case__channel__in=[c.value for c in PUBLIC_CHANNELS]
        )
        .values_list("case__code", flat=True)
        .first()
    )


def public_updates(
    actions: Sequence[str],
    *,
    ids: Sequence[str] = (),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = OPEN311_LIMIT,
) -> list[tuple[CaseEvent, str]]:
    """Public steps of public cases, oldest first, each with its case's code."""
    qs = CaseEvent.objects.filter(
        case__channel__in=[c.value for c in PUBLIC_CHANNELS], action__in=list(actions)
    )
    if ids:
        qs = qs.filter(case__code__in=list(ids))
    if start is not None:
        qs = qs.filter(at__gte=start)
    if end is not None:
        qs = qs.filter(at__lte=end)
    rows = (
        qs.order_by("at", "pk")
        .select_related("case")
        .only("pk", "action", "label", "to_status", "at", "case__code")[:limit]
    )
    return [(event, event.case.code) for event in rows]


# -- REST ------------------------------------------------------------------------------------


def viewer_for(user: Any, key: ApiKey | None) -> Viewer:
    """A key acting as an account sees what that account sees; a read-only integration key
    (no account) reads the whole district, as a city dashboard does."""
    if key is not None and key.user is None:
        return Viewer(Who(None, None, frozenset(), key.name), ScopeKind.DISTRICT)
    return viewer_of(user)
