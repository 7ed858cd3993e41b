"""Reads for assessment: the indicator counts (set-based, one query per family) and the pages.

Each family is one aggregate query grouped by subject, with conditional counts
(``Count(filter=Q(...))``, i.e. ``COUNT(CASE WHEN … END)``). The Q objects that define each
count live in one table (:data:`CASE_COUNTS`, :data:`EVENT_COUNTS`) and serve both the aggregate
and the explain view that lists the records behind a figure, so the two can never disagree.

Cohorts and cut-off: case indicators count the registered cases *reported* in the period
(``reported_at`` is indexed) and their state at the end of the period; post indicators count
the actions a person took in the period (case events, ``at`` indexed).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
)

from chengguan.assessment.models import (
    AssessmentRun,
    Finding,
    Measure,
    Result,
    RunStatus,
    ScoreLine,
    Standard,
    StandardStatus,
    Subject,
)
from chengguan.assessment.periods import Period
from chengguan.cases.models import PUBLIC_CHANNELS, Case, CaseEvent
from chengguan.org.models import OrgUnit, Staff, UnitKind

TERRITORY_KINDS = (UnitKind.SUBDISTRICT, UnitKind.TOWN)
DEPARTMENT_KINDS = (UnitKind.DEPARTMENT, UnitKind.UTILITY)
INSPECTOR_ROLES = ("inspector", "assistant", "bicycle_assistant")
POST_OF_ROLE = {
    "inspector": Subject.INSPECTOR,
    "assistant": Subject.INSPECTOR,
    "bicycle_assistant": Subject.INSPECTOR,
    "operator": Subject.OPERATOR,
    "shift_leader": Subject.SHIFT_LEADER,
    "dispatcher": Subject.DISPATCHER,
}


@dataclass(frozen=True)
class Window:
    """A period as aware datetimes plus the parameters the counts need."""

    start: dt.datetime
    end: dt.datetime
    recurrence_days: int = 30

    @classmethod
    def of(cls, period: Period, recurrence_days: int = 30) -> Window:
        start, end = period.bounds()
        return cls(start, end, recurrence_days)


def _recurred(w: Window) -> Q:
    """Same unit grid and category closed since N days before the period, before this report.

    The aggregate counts this with :func:`recurrence_counts` (a join to the first closure per
    grid and category, so no per-row subquery); this correlated form lists the records.
    """
    earlier = Case.objects.filter(
        unit_grid=OuterRef("unit_grid"),
        category_id=OuterRef("category_id"),
        closed_at__gte=w.start - dt.timedelta(days=w.recurrence_days),
        closed_at__lt=OuterRef("reported_at"),
    )
    return Q(Exists(earlier)) & ~Q(unit_grid="")


def recurrence_counts(w: Window) -> dict[int, int]:
    """One query: per territory, cohort cases whose grid and category had a closure before them.

    A case counts when the same problem (category) at the same unit grid was closed at or after
    ``start − N days`` and before this case was reported: the first such closure is found once
    per grid and category, then joined to the cohort. CROSS JOIN keeps SQLite from driving the
    join from the closures through the unit-grid index (it loops over the month's cohort and
    probes the materialised closures by an automatic index instead); PostgreSQL plans freely.
    """
    table = connection.ops.quote_name(Case._meta.db_table)
    low = connection.ops.adapt_datetimefield_value(w.start - dt.timedelta(days=w.recurrence_days))
    start = connection.ops.adapt_datetimefield_value(w.start)
    end = connection.ops.adapt_datetimefield_value(w.end)
    sql = f"""
        SELECT a.territory_id, COUNT(*)
        FROM {table} a
        CROSS JOIN (
            SELECT unit_grid, category_id, MIN(closed_at) AS first_closed
            FROM {table}
            WHERE closed_at >= %s AND closed_at < %s AND unit_grid <> ''
            GROUP BY unit_grid, category_id
        ) b
        WHERE b.unit_grid = a.unit_grid AND b.category_id = a.category_id
          AND a.reported_at >= %s AND a.reported_at < %s
          AND a.registered_at IS NOT NULL AND a.territory_id IS NOT NULL
          AND a.reported_at > b.first_closed
        GROUP BY a.territory_id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [low, end, start, end])
        return {territory: count for territory, count in cursor.fetchall()}


def _self_found(w: Window) -> Q:
    return Q(channel="patrol") & (
        Q(reporter_staff__unit_id=F("territory_id")) | Q(reporter_staff__unit__territory_id=F("territory_id"))
    )


def _handled(w: Window) -> Q:
    return Q(handled_at__lt=w.end)


def _overdue(w: Window) -> Q:
    late = Q(handled_on_time=False, handled_at__lt=w.end)
    still_open = (Q(handled_at__isnull=True) | Q(handled_at__gte=w.end)) & Q(handle_deadline__lt=w.end)
    return late | still_open


QFor = Callable[[Window], Q]

# count key → the filter on the cohort; "" (the cohort itself) is the denominator.
CASE_COUNTS: dict[str, dict[str, QFor]] = {
    "departmental": {
        "dispatched": lambda w: Q(),
        "handled": _handled,
        "on_time": lambda w: Q(handled_on_time=True, handled_at__lt=w.end),
        "closed": lambda w: Q(closed_at__lt=w.end),
        "reworked": lambda w: Q(rework_count__gt=0),
        "extended": lambda w: Q(extension_count__gt=0),
        "overdue": _overdue,
        "rated": lambda w: Q(satisfaction__isnull=False),
        "satisfied": lambda w: Q(satisfaction__gte=4),
    },
    "territorial": {
        "registered": lambda w: Q(),
        "closed": lambda w: Q(closed_at__lt=w.end),
        "on_time": lambda w: Q(handled_on_time=True, handled_at__lt=w.end),
        "self_found": _self_found,
        "recurred": _recurred,
        "public": lambda w: Q(channel__in=[c.value for c in PUBLIC_CHANNELS]),
    },
    "inspector": {
        "reports": lambda w: Q(),
        "valid_reports": lambda w: Q(registered_at__isnull=False),
    },
}

GROUP_FIELD = {
    "departmental": "lead_unit_id",
    "territorial": "territory_id",
    "inspector": "reporter_staff_id",
}


def case_cohort(subject: str, w: Window) -> QuerySet[Case]:
    """The cases a case-based family counts, before grouping."""
    cases = Case.objects.filter(reported_at__gte=w.start, reported_at__lt=w.end)
    if subject == "departmental":
        return cases.filter(registered_at__isnull=False, lead_unit__isnull=False)
    if subject == "territorial":
        return cases.filter(registered_at__isnull=False, territory__isnull=False)
    if subject == "inspector":
        return cases.filter(reporter_staff__isnull=False, channel="patrol")
    raise ValueError(subject)


# Counts computed by their own query (see recurrence_counts), not inside the family's aggregate.
SEPARATE = {"recurred"}
PLAIN = {"dispatched", "registered", "reports"}


def case_counts(subject: str, w: Window) -> dict[int, dict[str, int]]:
    """One query: per subject id, every count of the family (recurrence: one more query)."""
    field = GROUP_FIELD[subject]
    aggregates = {
        key: Count("id") if key in PLAIN else Count("id", filter=make(w))
        for key, make in CASE_COUNTS[subject].items()
        if key not in SEPARATE
    }
    rows = case_cohort(subject, w).order_by().values(field).annotate(**aggregates)
    out = {row[field]: {k: row[k] for k in aggregates} for row in rows}
    if subject == "territorial":
        recurred = recurrence_counts(w)
        for key, counts in out.items():
            counts["recurred"] = recurred.get(key, 0)
    return out


def _on_time(w: Window) -> Q:
    return Q(deadline_before__isnull=True) | Q(at__lte=F("deadline_before"))


def _returned_after(w: Window) -> Q:
    """A dispatch whose case was returned after it and before the period's end.

    The cut-off at the period's end (like every case indicator's "state at the end of the
    period") keeps a published month reproducible, and lets :func:`unit_event_counts` find the
    return among the same month's events instead of probing each dispatch's later history.
    """
    later = CaseEvent.objects.filter(
        case_id=OuterRef("case_id"), action="return", seq__gt=OuterRef("seq"), at__lt=w.end
    )
    return Q(action="dispatch") & Q(Exists(later))


POST_ACTIONS = {
    "confirm": "verifies",
    "deny": "verifies",
    "check_pass": "checks",
    "check_fail": "checks",
    "send_verify": "send_verifies",
    "send_check": "send_checks",
    "register": "registrations",
    "close": "closes",
    "dispatch": "dispatches",
}
ON_TIME_KEY = {
    "verifies": "verify_on_time",
    "checks": "check_on_time",
    "send_verifies": "send_verify_on_time",
    "send_checks": "send_check_on_time",
    "registrations": "register_on_time",
    "closes": "close_on_time",
    "dispatches": "dispatch_on_time",
}
EVENT_COUNTS: dict[str, QFor] = {
    "on_time": _on_time,
    "returned_after": _returned_after,
}
UNIT_ACTIONS = ("dispatch", "return")


def unit_event_counts(w: Window) -> list[tuple[int | None, str, str | None, int, int, int]]:
    """One query over the period's dispatches and returns: per actor, action and unit code.

    Rows are (actor id, action, unit code, count, on time, returned after). "Returned after"
    (see :func:`_returned_after`) is a window over the same rows — the highest return ``seq``
    of the case within the period, compared with the dispatch's — instead of a correlated
    EXISTS per dispatch (which cost 78 000 index probes and, on PostgreSQL, a JIT compile
    longer than the query). The partial index ``assess_event_unit_time`` (assessment
    migration 0003) holds only these two actions, so the scan reads a fifth of the month.
    """
    table = connection.ops.quote_name(CaseEvent._meta.db_table)
    if connection.vendor == "postgresql":
        unit = "data ->> 'lead_unit'"
    else:
        unit = "json_extract(data, '$.lead_unit')"
    start = connection.ops.adapt_datetimefield_value(w.start)
    end = connection.ops.adapt_datetimefield_value(w.end)
    sql = f"""
        SELECT actor_id, action, unit_code, COUNT(*), SUM(on_time), SUM(returned)
        FROM (
            SELECT actor_id, action, {unit} AS unit_code,
                CASE WHEN deadline_before IS NULL OR at <= deadline_before THEN 1 ELSE 0 END AS on_time,
                CASE WHEN action = 'dispatch' AND seq < MAX(CASE WHEN action = 'return' THEN seq END)
                    OVER (PARTITION BY case_id) THEN 1 ELSE 0 END AS returned
            FROM {table}
            WHERE at >= %s AND at < %s AND action IN ('dispatch', 'return')
        ) e
        GROUP BY actor_id, action, unit_code
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [start, end])
        return [
            (actor, action, code, int(n), int(on_time or 0), int(returned or 0))
            for actor, action, code, n, on_time, returned in cursor.fetchall()
        ]


def event_counts(w: Window) -> tuple[dict[int, dict[str, int]], dict[str, dict[str, int]]]:
    """The period's case events: post counts per acting user, dispatch/return counts per unit.

    Three set-based queries, each bounded to the period through an index on ``at``: the posts'
    actions other than dispatch grouped by actor and action (with on-time counts), the
    dispatches and returns (:func:`unit_event_counts`), and the registrations voided afterwards
    (driven from the few voided cases).
    """
    post_actions = [a for a in POST_ACTIONS if a not in UNIT_ACTIONS]
    rows = (
        CaseEvent.objects.filter(at__gte=w.start, at__lt=w.end, action__in=post_actions)
        .order_by()
        .values("actor_id", "action")
        .annotate(n=Count("id"), on_time=Count("id", filter=_on_time(w)))
    )
    voided = dict(
        CaseEvent.objects.filter(
            case_id__in=Case.objects.filter(status="voided").values("id"),
            at__gte=w.start,
            at__lt=w.end,
            action="register",
            actor__isnull=False,
        )
        .order_by()
        .values_list("actor_id")
        .annotate(n=Count("id"))
    )
    posts: dict[int, dict[str, int]] = {}
    units: dict[str, dict[str, int]] = {}

    def add(actor: int | None, action: str, n: int, on_time: int) -> dict[str, int] | None:
        if actor is None or action not in POST_ACTIONS:
            return None
        counts = posts.setdefault(actor, {})
        key = POST_ACTIONS[action]
        counts[key] = counts.get(key, 0) + n
        counts[ON_TIME_KEY[key]] = counts.get(ON_TIME_KEY[key], 0) + on_time
        return counts

    for row in rows:
        add(row["actor_id"], row["action"], row["n"], row["on_time"])
    for actor, action, code, n, on_time, returned in unit_event_counts(w):
        unit = units.setdefault(code or "", {})
        unit_key = "dispatch_events" if action == "dispatch" else "returns"
        unit[unit_key] = unit.get(unit_key, 0) + n
        counts = add(actor, action, n, on_time)
        if counts is not None and action == "dispatch":
            counts["accurate_dispatches"] = counts.get("accurate_dispatches", 0) + n - returned
    for actor, counts in posts.items():
        counts["accepted"] = counts.get("send_verifies", 0) + counts.get("send_checks", 0)
        if "registrations" in counts:
            counts["accurate_registrations"] = counts["registrations"] - voided.get(actor, 0)
    return posts, units


def grid_counts() -> dict[int, dict[str, Decimal]]:
    """One query: unit-grid cells and their area per territory in the active grid."""
    from chengguan.grid.models import GridCell

    rows = (
        GridCell.objects.filter(layer__status="active", level=4, territory__isnull=False)
        .order_by()
        .values("territory_id")
        .annotate(n=Count("id"), area=Sum("area_m2"))
    )
    return {
        row["territory_id"]: {
            "grids": Decimal(row["n"]),
            "km2": (Decimal(str(row["area"] or 0)) / Decimal(1_000_000)).quantize(Decimal("0.0001")),
        }
        for row in rows
    }


def findings_in(w: Window) -> list[dict[str, Any]]:
    """One query: the findings of the period with what their lines and rules need."""
    return [
        dict(row)
        for row in Finding.objects.filter(found_at__gte=w.start, found_at__lt=w.end)
        .order_by("found_at", "id")
        .values(
            "id",
            "unit_id",
            "unit__kind",
            "unit__name",
            "quantity",
            "responsible_person",
            "item_id",
            "item__code",
            "item__title",
            "item__tier",
            "item__points",
            "item__measure_unit",
            "item__cap",
            "item__track",
            "supervisor_unit_id",
            "supervisor_unit__name",
            "item__supervisor_unit_id",
            "item__supervisor_unit__name",
            "inspection__mode",
        )
    ]


def subject_units() -> dict[str, list[OrgUnit]]:
    units = OrgUnit.objects.filter(active=True, kind__in=[*TERRITORY_KINDS, *DEPARTMENT_KINDS]).order_by(
        "code"
    )
    out: dict[str, list[OrgUnit]] = {Subject.TERRITORIAL: [], Subject.DEPARTMENTAL: []}
    for unit in units:
        out[Subject.TERRITORIAL if unit.kind in TERRITORY_KINDS else Subject.DEPARTMENTAL].append(unit)
    return out


def staff_for(staff_ids: set[int], user_ids: set[int]) -> list[Staff]:
    return list(Staff.objects.filter(Q(pk__in=staff_ids) | Q(user_id__in=user_ids)).order_by("code"))


def active_standard() -> Standard | None:
    return Standard.objects.filter(status=StandardStatus.ACTIVE).order_by("-version").first()


# ---------------------------------------------------------------- pages


def runs(user: User | AnonymousUser, *, include_drafts: bool) -> QuerySet[AssessmentRun]:
    qs = AssessmentRun.objects.select_related("standard").order_by("-period_start", "period_kind", "-version")
    if not include_drafts:
        qs = qs.filter(status=RunStatus.PUBLISHED)
    return qs


def latest_run(*, include_drafts: bool) -> AssessmentRun | None:
    qs = AssessmentRun.objects.exclude(status=RunStatus.SUPERSEDED)
    if not include_drafts:
        qs = qs.filter(status=RunStatus.PUBLISHED)
    return qs.order_by("-period_start", "period_kind", "-version").first()


def ranking(run: AssessmentRun, subject: str) -> list[Result]:
    return list(run.results.filter(subject=subject).order_by("rank", "name"))


def subjects_of(run: AssessmentRun) -> list[tuple[str, str, int]]:
    counts = dict(run.results.order_by().values_list("subject").annotate(n=Count("id")))
    return [(s.value, str(s.label), counts[s.value]) for s in Subject if counts.get(s.value)]


def trend(run: AssessmentRun, subject: str, limit: int = 12) -> dict[str, Any]:
    """Scores of this subject's members over the last published runs of the same kind (and this one)."""
    earlier = list(
        AssessmentRun.objects.filter(
            period_kind=run.period_kind, status=RunStatus.PUBLISHED, period_start__lt=run.period_start
        )
        .order_by("-period_start")
        .values_list("id", flat=True)[: limit - 1]
    )
    ids = [*reversed(earlier), run.id]
    periods = {r.id: r for r in AssessmentRun.objects.filter(id__in=ids)}
    rows = (
        Result.objects.filter(run_id__in=ids, subject=subject)
        .order_by()
        .values("run_id", "name", "unit_id", "staff_id", "score")
    )
    series: dict[str, dict[int, str]] = {}
    for row in rows:
        series.setdefault(row["name"], {})[row["run_id"]] = str(row["score"])
    return {
        "periods": [periods[i].period_label for i in ids],
        "series": [
            {"name": name, "data": [points.get(i) for i in ids]} for name, points in sorted(series.items())
        ],
    }


def result_detail(result_id: int) -> Result | None:
    return Result.objects.select_related("run", "run__standard", "unit", "staff").filter(pk=result_id).first()


def lines_of(result: Result) -> list[ScoreLine]:
    return list(
        result.lines.select_related("finding", "finding__inspection").order_by("source", "points", "id")
    )


def line_detail(line_id: int) -> ScoreLine | None:
    return (
        ScoreLine.objects.select_related(
            "result",
            "result__run",
            "result__unit",
            "result__staff",
            "item",
            "finding",
            "finding__inspection",
            "finding__inspection__inspecting_unit",
            "finding__inspection__inspected_unit",
            "finding__unit",
            "finding__case",
        )
        .filter(pk=line_id)
        .first()
    )


@dataclass(frozen=True)
class Records:
    """The records behind one indicator figure: the denominator's rows, marked if in the numerator."""

    kind: str  # "cases" or "events"
    rows: list[Any]
    total: int
    counted: int
    numerator: str
    denominator: str


def _period_window(run: AssessmentRun) -> Window:
    return Window.of(Period(run.period_kind, run.period_start, run.period_end), run.standard.recurrence_days)


def indicator_records(result: Result, code: str, limit: int = 200) -> Records | None:
    """The cases (or case events) behind one indicator of one result, as the aggregate counted them."""
    from chengguan.assessment import indicators

    indicator = indicators.lookup(result.subject, code)
    if indicator is None:
        return None
    w = _period_window(result.run)
    num_key, den_key = indicator.numerator, indicator.denominator
    if result.subject in CASE_COUNTS and num_key in CASE_COUNTS[result.subject]:
        family = CASE_COUNTS[result.subject]
        group = {
            GROUP_FIELD[result.subject]: result.staff_id if result.subject == "inspector" else result.unit_id
        }
        base = case_cohort(result.subject, w).filter(**group)
        if den_key in family:
            base = base.filter(family[den_key](w))
        flagged = base.annotate(counted=ExpressionWrapper(family[num_key](w), output_field=BooleanField()))
        rows = list(flagged.select_related("category", "lead_unit").order_by("reported_at", "id")[:limit])
        return Records("cases", rows, base.count(), base.filter(family[num_key](w)).count(), num_key, den_key)
    events = _event_records(result, num_key, den_key, w)
    if events is None:
        return None
    event_base, counted_q = events
    event_rows = list(
        event_base.annotate(counted=ExpressionWrapper(counted_q, output_field=BooleanField()))
        .select_related("case")
        .order_by("at", "id")[:limit]
    )
    total, counted = event_base.count(), event_base.filter(counted_q).count()
    return Records("events", event_rows, total, counted, num_key, den_key)


def _event_records(
    result: Result, num_key: str, den_key: str, w: Window
) -> tuple[QuerySet[CaseEvent], Q] | None:
    if result.subject == "departmental":
        if den_key != "dispatch_events" or result.unit is None:
            return None
        base = CaseEvent.objects.filter(
            at__gte=w.start, at__lt=w.end, action__in=["dispatch", "return"]
        ).filter(data__lead_unit=result.unit.code)
        return base, Q(action="return")
    if result.staff is None or result.staff.user_id is None:
        return None
    actions = [a for a, key in POST_ACTIONS.items() if key == den_key]
    if not actions:
        return None
    base = CaseEvent.objects.filter(
        at__gte=w.start, at__lt=w.end, action__in=actions, actor_id=result.staff.user_id
    )
    if num_key.endswith("_on_time"):
        return base, _on_time(w)
    if num_key == "accurate_registrations":
        return base, ~Q(case__status="voided")
    if num_key == "accurate_dispatches":
        return base, ~_returned_after(w)
    return base, Q()


def measures(run: AssessmentRun | None = None, status: str | None = None) -> QuerySet[Measure]:
    qs = Measure.objects.select_related("run", "rule", "unit", "staff", "finding").prefetch_related(
        "follow_ups"
    )
    if run is not None:
        qs = qs.filter(run=run)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-run__period_start", "kind", "id")


# ---------------------------------------------------------------- inspection pages


def inspection_list(
    visible: QuerySet[Any], *, mode: str = "", unit_id: int | None = None, month: dt.date | None = None
) -> QuerySet[Any]:
    """Inspections the viewer may see, filtered by mode, unit (either side) and month, newest first."""
    qs = visible.select_related("inspecting_unit", "inspected_unit").annotate(
        finding_count=Count("findings", distinct=True), check_count=Count("checks", distinct=True)
    )
    if mode:
        qs = qs.filter(mode=mode)
    if unit_id is not None:
        qs = qs.filter(Q(inspected_unit_id=unit_id) | Q(inspecting_unit_id=unit_id))
    if month is not None:
        following = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        qs = qs.filter(date__gte=month, date__lt=following)
    return qs.order_by("-date", "-id")


def inspection_findings(inspection_id: int) -> list[Finding]:
    return list(
        Finding.objects.filter(inspection_id=inspection_id)
        .select_related("item", "unit", "case", "repeat_of", "repeat_of__item")
        .prefetch_related("photos")
        .order_by("found_at", "id")
    )


def finding_detail(visible: QuerySet[Finding], finding_id: int) -> Finding | None:
    return (
        visible.select_related(
            "item",
            "unit",
            "case",
            "inspection",
            "inspection__inspecting_unit",
            "inspection__inspected_unit",
            "repeat_of",
            "repeat_of__item",
        )
        .filter(pk=finding_id)
        .first()
    )
