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

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, QuerySet

from chengguan.api import shared
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


_reloading = threading.Lock()


def catalogue() -> Catalogue:
    global _catalogue
    cached = _catalogue
    now = time.monotonic()
    if cached is not None and now - cached[0] < CATALOGUE_TTL:
        return cached[1]
    # One thread reloads an expired catalogue; the others go on with the one they have
    # rather than each reading the same hundreds of rows at the same moment.
    if cached is not None and not _reloading.acquire(blocking=False):
        return cached[1]
    try:
        fresh = _load_catalogue()
        with _catalogue_lock:
            _catalogue = (now, fresh)
    finally:
        if cached is not None:
            _reloading.release()
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


_TIMES = ("reported_at", "updated_at", "closed_at", "deadline", "handle_deadline")
_ROW_NAMES = (
    "id",
    "code",
    "status",
    "description",
    "address",
    "lat",
    "lon",
    *_TIMES,
    "category__kind",
    "category__code",
    "category__name",
    "lead_unit__name",
    "open311__media_url",
)


def _query_rows(codes: Sequence[str]) -> list[dict[str, Any]]:
    """Public requests by code, straight from a cursor: building model instances for a raw
    query cost more than the query itself on the busiest read. SQLite hands datetimes back
    naive (they are stored in UTC), PostgreSQL aware."""
    marks = ", ".join(["%s"] * len(codes))
    channels = [c.value for c in PUBLIC_CHANNELS]
    with connection.cursor() as cursor:
        cursor.execute(_request_sql(f"c.code IN ({marks})"), [*codes, *channels])
        rows = [dict(zip(_ROW_NAMES, values, strict=True)) for values in cursor.fetchall()]
    for row in rows:
        for name in _TIMES:
            moment = row[name]
            if moment is not None and moment.tzinfo is None:
                row[name] = moment.replace(tzinfo=dt.UTC)
    return rows


# -- Open311 reads remembered in the shared cache ---------------------------------------------
#
# A row is stored with the token of its case and the registries' token as read before the
# query (chengguan.api.shared); every case change renews the case's token when it commits
# (signals in apps.py), every edit of a category or unit the registries' token. So a read that
# starts after a transition has answered always shows the new state. Rows, not documents, are
# stored: the wording of states follows the language of each request. Only with a cache shared
# by every process (CHENGGUAN_OPEN311_CACHE_SECONDS, on by default with Redis): with
# per-process memory the worker's transitions could not reach the web processes' copies.

ROW_KEY = "o311:row:"
REGISTRIES = "registries"


def row_cache_seconds() -> int:
    return int(getattr(settings, "CHENGGUAN_OPEN311_CACHE_SECONDS", 0))


def case_token(code: str) -> str:
    return f"case:{code}"


def _cached_rows(codes: Sequence[str], seconds: int) -> dict[str, dict[str, Any]]:
    names = [case_token(c) for c in codes]
    current, stored = shared.tokens([REGISTRIES, *names], [ROW_KEY + c for c in codes])
    registries = current[REGISTRIES]
    found: dict[str, dict[str, Any]] = {}
    for code in codes:
        entry = stored.get(ROW_KEY + code)
        token = current[case_token(code)]
        if entry is not None and token is not None and entry[0] == token and entry[1] == registries:
            found[code] = entry[2]
    missing = [c for c in codes if c not in found]
    if not missing:
        return found
    fresh = _query_rows(missing)  # after reading the tokens: see above
    if registries is None:
        registries = shared.claim_token(REGISTRIES)
    keep: dict[str, Any] = {}
    for row in fresh:
        found[row["code"]] = row
        token = current[case_token(row["code"])] or shared.claim_token(case_token(row["code"]))
        if token is not None and registries is not None:
            keep[ROW_KEY + row["code"]] = (token, registries, row)
    if keep:
        shared.set_many(keep, seconds)
    return found


def _rows_by_code(codes: Sequence[str]) -> list[dict[str, Any]]:
    """Public requests by code, newest first (the order of the list query)."""
    seconds = row_cache_seconds()
    if seconds <= 0:
        return _query_rows(codes)
    found = _cached_rows(codes, seconds)
    rows = [found[c] for c in codes if c in found]
    rows.sort(key=lambda r: (r["reported_at"], r["id"]), reverse=True)
    return rows


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


# -- invalidation (connected in apps.py) -------------------------------------------------------


def case_changed(sender: Any, instance: Any, created: bool = False, **_: Any) -> None:
    """post_save of a Case or CaseEvent: the case's remembered Open311 row is outdated once
    this commits. A case just created has nothing remembered yet (misses are not stored)."""
    if row_cache_seconds() <= 0:
        return
    if isinstance(instance, Case):
        if created:
            # Its first events (same transaction) need no renewal either: nobody can have
            # remembered a row of a case that no other transaction could see yet.
            instance._open311_unseen = True  # type: ignore[attr-defined]
            transaction.on_commit(lambda: setattr(instance, "_open311_unseen", False))
        else:
            shared.renew_on_commit(case_token(instance.code))
        return
    if CaseEvent.case.is_cached(instance):
        if getattr(instance.case, "_open311_unseen", False):
            return
        code = instance.case.code
    else:
        code = Case.objects.filter(pk=instance.case_id).values_list("code", flat=True).first()
    if code is not None:
        shared.renew_on_commit(case_token(code))


def registries_changed(**_: Any) -> None:
    """A category or unit changed: names in every remembered row may be outdated."""
    if row_cache_seconds() > 0:
        shared.renew_on_commit(REGISTRIES)
