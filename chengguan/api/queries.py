"""Read queries behind the API (the API's own reads; case scoping comes from cases.selectors).

Open311 is public: it shows the cases that came from the public (citizens' web page, hotline,
Open311 apps, media), never patrol reports, and never a reporter's contact details.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Q, QuerySet

from chengguan.api.models import ApiKey, ServiceAttribute
from chengguan.cases.models import PUBLIC_CHANNELS, Case, CaseEvent, CitizenContact
from chengguan.cases.selectors import ScopeKind, Viewer, viewer_of
from chengguan.cases.services import Who
from chengguan.cases.workflow import FINAL
from chengguan.catalog.models import Category

OPEN311_LIMIT = 1000


# -- Open311 ---------------------------------------------------------------------------------


# The public catalogue as Open311 serves it, per process for CATALOGUE_TTL seconds (every
# POST needs its category and attributes); an edit in this process clears it at once, other
# processes see it within the TTL.
CATALOGUE_TTL = 10.0


@dataclass(frozen=True)
class Catalogue:
    services: list[tuple[Category, bool]]
    by_code: dict[tuple[str, str], Category]
    attributes: dict[int, list[ServiceAttribute]]


_catalogue: tuple[float, Catalogue] | None = None
_catalogue_lock = threading.Lock()


def forget_catalogue(**_: Any) -> None:
    global _catalogue
    with _catalogue_lock:
        _catalogue = None


def _load_catalogue() -> Catalogue:
    rows = list(
        Category.objects.filter(active=True, public=True).select_related("domain").order_by("kind", "code")
    )
    attributes: dict[int, list[ServiceAttribute]] = {}
    for attr in ServiceAttribute.objects.filter(category__in=[c.pk for c in rows]).order_by("order", "code"):
        attributes.setdefault(attr.category_id, []).append(attr)
    services = [(c, bool(attributes.get(c.pk)) or bool(c.registration_criteria.strip())) for c in rows]
    return Catalogue(services, {(c.kind, c.code): c for c in rows}, attributes)


def catalogue() -> Catalogue:
    global _catalogue
    cached = _catalogue
    now = time.monotonic()
    if cached is not None and now - cached[0] < CATALOGUE_TTL:
        return cached[1]
    fresh = _load_catalogue()
    with _catalogue_lock:
        _catalogue = (now, fresh)
    return fresh


def open311_services() -> list[tuple[Category, bool]]:
    """Public, active categories and whether each has a service definition worth reading."""
    return catalogue().services


def open311_category(kind: str, code: str) -> Category | None:
    return catalogue().by_code.get((kind, code))


def attributes_of(category: Category) -> list[ServiceAttribute]:
    return list(catalogue().attributes.get(category.pk, []))


def public_cases() -> QuerySet[Case]:
    return Case.objects.filter(channel__in=[c.value for c in PUBLIC_CHANNELS])


# The columns an Open311 request is made of: read as plain rows, no model instances (the
# public read path is the hottest in the API).
REQUEST_COLUMNS = (
    "code",
    "status",
    "description",
    "address",
    "lat",
    "lon",
    "reported_at",
    "updated_at",
    "closed_at",
    "deadline",
    "handle_deadline",
    "category__kind",
    "category__code",
    "category__name",
    "lead_unit__name",
    "open311__media_url",
)


def _request_sql(where: str) -> str:
    """One written-out query for reads by code: the ORM spends more time building the joined
    ``values()`` query than PostgreSQL spends running it, on the API's busiest path."""
    from chengguan.api.models import Open311Request
    from chengguan.org.models import OrgUnit

    q = connection.ops.quote_name
    case, cat, unit, extra = (q(m._meta.db_table) for m in (Case, Category, OrgUnit, Open311Request))
    return (
        "SELECT c.id, c.code, c.status, c.description, c.address, c.lat, c.lon, c.reported_at, "
        "c.updated_at, c.closed_at, c.deadline, c.handle_deadline, "
        "cat.kind AS cat_kind, cat.code AS cat_code, cat.name AS cat_name, "
        "u.name AS unit_name, o.media_url AS media_url "
        f"FROM {case} c JOIN {cat} cat ON cat.id = c.category_id "
        f"LEFT JOIN {unit} u ON u.id = c.lead_unit_id "
        f"LEFT JOIN {extra} o ON o.case_id = c.id "
        f"WHERE {where} AND c.channel IN (%s, %s, %s, %s) ORDER BY c.reported_at DESC, c.id DESC"
    )


def _rows_by_code(codes: Sequence[str]) -> list[dict[str, Any]]:
    """Public requests by code; a raw query on Case, so each backend's converters still apply
    (SQLite's datetimes come back as datetimes)."""
    marks = ", ".join(["%s"] * len(codes))
    sql = _request_sql(f"c.code IN ({marks})")
    channels = [c.value for c in PUBLIC_CHANNELS]
    rows: list[Any] = list(Case.objects.raw(sql, [*codes, *channels]))  # with the joined columns
    return [
        {
            "code": r.code,
            "status": r.status,
            "description": r.description,
            "address": r.address,
            "lat": r.lat,
            "lon": r.lon,
            "reported_at": r.reported_at,
            "updated_at": r.updated_at,
            "closed_at": r.closed_at,
            "deadline": r.deadline,
            "handle_deadline": r.handle_deadline,
            "category__kind": r.cat_kind,
            "category__code": r.cat_code,
            "category__name": r.cat_name,
            "lead_unit__name": r.unit_name,
            "open311__media_url": r.media_url,
        }
        for r in rows
    ]


def public_request(code: str) -> dict[str, Any] | None:
    rows = _rows_by_code([code])
    return rows[0] if rows else None


def public_requests(
    *,
    ids: Sequence[str] = (),
    categories: Sequence[tuple[str, str]] = (),
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    statuses: Sequence[str] = (),
    limit: int = OPEN311_LIMIT,
) -> list[dict[str, Any]]:
    """GET requests: ids override everything else; otherwise codes, window and status."""
    if ids:
        return _rows_by_code(list(dict.fromkeys(ids)))[:limit]
    qs = public_cases()
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
    return list(qs.order_by("-reported_at", "-pk").values(*REQUEST_COLUMNS)[:limit])


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
