"""Reads of cases, scoped to whoever asks.

Every page that lists or shows cases starts from :func:`cases_for`, so no page can show a case
its viewer may not see: an inspector sees the cases of their tasks, their reports and their
grids; a unit handler the cases of their unit (lead or co-handler); the command centre
(operator, shift leader, dispatcher) and leaders the whole district. Lights are computed per
row from the stored clock fields (no query per row); the queue's light filter turns the
80 % rule into a deadline bound per distinct limit, so it runs in the database.
"""

from __future__ import annotations

import datetime as dt
import importlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from itertools import groupby
from typing import Any

from django.db.models import Case as SqlCase
from django.db.models import (
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
    prefetch_related_objects,
)
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop as N_

from chengguan.cases import deadlines
from chengguan.cases.models import OPEN_VALUES, Attachment, Case, CaseEvent, CitizenContact, Light
from chengguan.cases.services import Who, actor_on
from chengguan.cases.workflow import (
    FINAL,
    STATUS_LABELS,
    Actor,
    CaseFacts,
    Role,
    Status,
    Transition,
    available,
)
from chengguan.catalog.models import Category
from chengguan.org.models import TERRITORIAL_KINDS, OrgUnit, Staff, UnitKind

DISTRICT_ROLES = frozenset({Role.OPERATOR, Role.SHIFT_LEADER, Role.DISPATCHER, Role.LEADER})
INSPECTOR_STAFF_ROLES = ("inspector", "assistant", "bicycle_assistant")
QUEUE_PAGE_SIZE = 50
INBOX_PAGE_SIZE = 30


class ScopeKind(StrEnum):
    DISTRICT = "district"
    UNIT = "unit"
    INSPECTOR = "inspector"
    NONE = "none"


@dataclass(frozen=True)
class Viewer:
    """Who is looking, and therefore which cases they may see."""

    who: Who
    scope: ScopeKind

    @property
    def staff(self) -> Staff | None:
        return self.who.staff

    @property
    def roles(self) -> frozenset[Role]:
        return self.who.roles

    @property
    def unit_id(self) -> int | None:
        return self.who.staff.unit_id if self.who.staff else None

    @property
    def is_inspector(self) -> bool:
        return Role.INSPECTOR in self.roles

    @property
    def is_handler(self) -> bool:
        return Role.HANDLER in self.roles

    @property
    def is_command(self) -> bool:
        return bool(self.roles & DISTRICT_ROLES)


def viewer_of(user: Any) -> Viewer:
    """The viewer for a logged-in user (anonymous users see nothing)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return Viewer(Who(None, None, frozenset(), ""), ScopeKind.NONE)
    who = Who.of(user)
    if who.roles & DISTRICT_ROLES or (who.staff is None and user.is_superuser):
        scope = ScopeKind.DISTRICT
    elif Role.HANDLER in who.roles:
        scope = ScopeKind.UNIT
    elif Role.INSPECTOR in who.roles:
        scope = ScopeKind.INSPECTOR
    else:
        scope = ScopeKind.NONE
    return Viewer(who, scope)


def _inspector_grid_codes(staff: Staff) -> QuerySet[Any]:
    from chengguan.grid.models import GridDuty, LayerStatus

    return GridDuty.objects.filter(staff=staff, cell__layer__status=LayerStatus.ACTIVE).values("cell__code")


def cases_for(viewer: Viewer) -> QuerySet[Case]:
    """The one scoped selector: every case this viewer may see."""
    qs = Case.objects.all()
    if viewer.scope is ScopeKind.DISTRICT:
        return qs
    staff = viewer.staff
    if staff is None or viewer.scope is ScopeKind.NONE:
        return qs.none()
    if viewer.scope is ScopeKind.UNIT:
        return qs.filter(Q(lead_unit_id=staff.unit_id) | Q(co_handlers__id=staff.unit_id)).distinct()
    grids = _inspector_grid_codes(staff)
    return qs.filter(
        Q(assigned_inspector=staff)
        | Q(reporter_staff=staff)
        | Q(unit_grid__in=grids)
        | Q(area_grid__in=grids)
        | Q(responsibility_grid__in=grids)
        | Q(management_grid__in=grids)
    )


def case_for(viewer: Viewer, code: str) -> Case | None:
    """One case by its code, if the viewer may see it."""
    return (
        cases_for(viewer)
        .select_related(
            "category",
            "territory",
            "lead_unit",
            "reporter_staff",
            "assigned_inspector",
            "duplicate_of",
        )
        .filter(code=code)
        .first()
    )


# -- what the viewer may do ----------------------------------------------------------------


def actor_for(viewer: Viewer, case: Case) -> Actor:
    """The workflow's view of the viewer on this case, as the transition service builds it."""
    return actor_on(viewer.roles, viewer.staff, case)


def actions_for(viewer: Viewer, case: Case) -> list[Transition]:
    """The buttons to show: what ``workflow.available`` allows this viewer now."""
    if viewer.scope is ScopeKind.NONE and not viewer.roles:
        return []
    return available(CaseFacts(case.status_enum, case.lead_unit_id), actor_for(viewer, case))


# -- lights --------------------------------------------------------------------------------


def clock_of(case: Case) -> deadlines.StepClock:
    return deadlines.StepClock(
        case.step,
        case.step_started_at,
        case.step_limit_hours,
        case.step_extra_hours,
        case.paused_at,
        case.deadline,
        case.round_the_clock,
    )


def light_of(case: Case, calendar: deadlines.Calendar, now: dt.datetime) -> str:
    """The case's traffic light from its stored clock (no query)."""
    if case.status in FINAL:
        return Light.NONE
    return deadlines.light(calendar, clock_of(case), now)


class LightFilter(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    PAUSED = "paused"
    NONE = "none"


LIGHT_FILTER_LABELS: dict[LightFilter, Promise] = {
    LightFilter.GREEN: _("绿灯（正常）"),
    LightFilter.YELLOW: _("黄灯（预警）"),
    LightFilter.RED: _("红灯（超期）"),
    LightFilter.PAUSED: _("暂停计时"),
    LightFilter.NONE: _("不计时"),
}

_RUNNING = Q(step_started_at__isnull=False, step_limit_hours__isnull=False, deadline__isnull=False) & ~Q(
    step=""
)


def _total_hours() -> ExpressionWrapper:
    return ExpressionWrapper(
        F("step_limit_hours") + F("step_extra_hours"),
        output_field=DecimalField(max_digits=9, decimal_places=2),
    )


def _light_filter(
    qs: QuerySet[Case], light: LightFilter, calendar: deadlines.Calendar, now: dt.datetime
) -> QuerySet[Case]:
    """Cases whose light is ``light`` now, decided in the database.

    Used at least 80 % of the limit ⟺ at most 20 % of it is left before the deadline ⟺ the
    deadline falls before ``now`` plus 20 % of the limit in working time. The limits in use
    are few (they come from the catalogue), so one bound per distinct limit does it.
    """
    if light is LightFilter.NONE:
        return qs.exclude(_RUNNING)
    running = qs.filter(_RUNNING)
    if light is LightFilter.PAUSED:
        return running.filter(paused_at__isnull=False)
    live = running.filter(paused_at__isnull=True)
    if light is LightFilter.RED:
        return live.filter(deadline__lt=now)
    live = live.filter(deadline__gte=now).annotate(total_hours=_total_hours())
    pairs = set(live.order_by().values_list("total_hours", "round_the_clock").distinct())
    yellow = Q(pk__in=[])
    share = Decimal(1) - deadlines.GREEN_UNTIL
    for total, round_the_clock in pairs:
        if total is None:
            continue
        bound = calendar.add(now, Decimal(total) * share, round_the_clock=round_the_clock)
        yellow |= Q(total_hours=total, round_the_clock=round_the_clock, deadline__lte=bound)
    return live.filter(yellow) if light is LightFilter.YELLOW else live.exclude(yellow)


# -- the command-centre queue --------------------------------------------------------------

OPEN_FILTER = "open"
ALL_FILTER = "all"
# OPEN_VALUES (sorted) is the list of the partial indexes on open cases (``case_open_queue``,
# the dashboard's ``dash_case_open``): SQLite uses a partial index only when the query repeats
# its condition term for term, in the same order.


@dataclass(frozen=True)
class QueueFilters:
    status: str = OPEN_FILTER
    category_id: int | None = None
    territory_id: int | None = None
    lead_unit_id: int | None = None
    light: LightFilter | None = None
    channel: str = ""
    q: str = ""
    page: int = 1


@dataclass(frozen=True)
class QueueRow:
    case: Case
    light: str
    status_label: str

    @property
    def has_point(self) -> bool:
        return self.case.lat is not None and self.case.lon is not None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    page: int
    has_next: bool
    filters: QueueFilters

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    def points(self) -> list[dict[str, Any]]:
        """The page's cases for the small map (plain data for json_script)."""
        return [
            {
                "code": row.case.code,
                "lat": row.case.lat,
                "lon": row.case.lon,
                "light": row.light,
                "title": f"{row.case.code} {row.case.category.name}",
            }
            for row in self.rows
            if row.has_point
        ]


def command_queue(
    viewer: Viewer,
    filters: QueueFilters | None = None,
    *,
    calendar: deadlines.Calendar,
    now: dt.datetime | None = None,
    page_size: int = QUEUE_PAGE_SIZE,
) -> QueuePage:
    """The command centre's work list: filtered, most urgent deadline first, one page.

    One query for the rows (page size + 1 to know whether a next page exists: no COUNT over
    a million rows), one each for the page's categories, territories and lead units, plus one
    for the distinct limit pairs only when filtering by yellow/green.

    The category is fetched for the page rather than joined: with the join SQLite's planner
    starts from the category table and sorts all open cases (1.7 s at a million cases);
    alone, the case table is read in deadline order from the open-case index and stops
    after one page.
    """
    filters = filters or QueueFilters()
    now = now or timezone.now()
    qs = cases_for(viewer)
    if filters.status == OPEN_FILTER:
        qs = qs.filter(status__in=OPEN_VALUES)
    elif filters.status and filters.status != ALL_FILTER:
        qs = qs.filter(status=filters.status)
    if filters.category_id:
        qs = qs.filter(category_id=filters.category_id)
    if filters.territory_id:
        # "+ 0" keeps the planners off the territory's index: a territory holds a tenth of the
        # district's cases, and walking the open cases in deadline order finds a page of them
        # sooner than fetching and sorting all of that territory's (0.2 s → ms at 1 M cases).
        qs = qs.alias(territory_plain=F("territory_id") + 0).filter(territory_plain=filters.territory_id)
    if filters.lead_unit_id:
        qs = qs.filter(lead_unit_id=filters.lead_unit_id)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.q:
        qs = qs.filter(Q(code__startswith=filters.q) | Q(address__icontains=filters.q))
    if filters.light is not None:
        qs = _light_filter(qs, filters.light, calendar, now)
    page = max(1, filters.page)
    offset = (page - 1) * page_size
    cases = list(
        qs.defer("description", "tags").order_by(F("deadline").asc(nulls_last=True), "-reported_at", "pk")[
            offset : offset + page_size + 1
        ]
    )
    prefetch_related_objects(
        cases,
        Prefetch(
            "category",
            queryset=Category.objects.defer(
                "legal_basis", "registration_criteria", "closure_criteria", "shipped"
            ),
        ),
        "territory",
        "lead_unit",
    )
    has_next = len(cases) > page_size
    rows = [
        QueueRow(case, light_of(case, calendar, now), STATUS_LABELS[case.status_enum])
        for case in cases[:page_size]
    ]
    return QueuePage(rows, page, has_next, filters)


# -- inspector and unit pages --------------------------------------------------------------


def inspector_tasks(viewer: Viewer) -> QuerySet[Case]:
    """Verification and check tasks sent to this inspector."""
    if viewer.staff is None or not viewer.is_inspector:
        return Case.objects.none()
    return (
        cases_for(viewer)
        .filter(assigned_inspector=viewer.staff, status__in=[Status.VERIFYING, Status.CHECKING])
        .select_related("category")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("uploaded_at")))
        .order_by(F("deadline").asc(nulls_last=True), "pk")
    )


def my_reports(viewer: Viewer, limit: int = 20) -> list[Case]:
    if viewer.staff is None:
        return []
    return list(
        cases_for(viewer)
        .filter(reporter_staff=viewer.staff)
        .select_related("category")
        .order_by("-reported_at")[:limit]
    )


UNIT_OPEN = [
    Status.DISPATCHED,
    Status.HANDLING,
    Status.EXTENSION_REQUESTED,
    Status.DEFERRAL_REQUESTED,
    Status.DEFERRED,
    Status.HANDLED,
    Status.CHECKING,
]


def unit_inbox(viewer: Viewer, *, page: int = 1, page_size: int = INBOX_PAGE_SIZE) -> tuple[list[Case], bool]:
    """Open cases of the viewer's unit, most urgent first (lead unit's first)."""
    if viewer.scope is not ScopeKind.UNIT:
        return [], False
    offset = (max(1, page) - 1) * page_size
    cases = list(
        cases_for(viewer)
        .filter(status__in=[s.value for s in UNIT_OPEN])
        .select_related("category", "territory", "lead_unit")
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("uploaded_at")))
        .order_by(F("deadline").asc(nulls_last=True), "pk")[offset : offset + page_size + 1]
    )
    return cases[:page_size], len(cases) > page_size


# -- the case page -------------------------------------------------------------------------


def timeline(case: Case) -> list[CaseEvent]:
    """Every event of the case, oldest first, with its photos."""
    return list(
        CaseEvent.objects.filter(case=case)
        .prefetch_related(Prefetch("attachments", queryset=Attachment.objects.order_by("uploaded_at")))
        .order_by("seq")
    )


def attachments_of(case: Case) -> list[Attachment]:
    return list(Attachment.objects.filter(case=case).order_by("uploaded_at", "pk"))


def attachment_for(viewer: Viewer, token: str) -> Attachment | None:
    """A photo, if the viewer may see its case."""
    return (
        Attachment.objects.filter(token=token, case__in=cases_for(viewer).values("pk"))
        .select_related("case")
        .first()
    )


def co_handlers_of(case: Case) -> list[OrgUnit]:
    return list(case.co_handlers.order_by("code"))


def inspectors_for(case: Case | None = None, limit: int = 300) -> list[Staff]:
    """Inspectors who may be sent to a case: those working in its territory, else all."""
    qs = Staff.objects.filter(role__in=INSPECTOR_STAFF_ROLES, active=True, user__isnull=False)
    if case is not None and case.territory_id is not None:
        local = qs.filter(Q(unit__territory_id=case.territory_id) | Q(unit_id=case.territory_id))
        if local.exists():
            qs = local
    inspectors_first = SqlCase(When(role="inspector", then=Value(0)), default=Value(1))
    return list(qs.select_related("unit").order_by(inspectors_first, "role", "code")[:limit])


DISPATCH_KINDS = (
    UnitKind.DEPARTMENT,
    UnitKind.SUBDISTRICT,
    UnitKind.TOWN,
    UnitKind.BRIGADE,
    UnitKind.UTILITY,
    UnitKind.BUREAU,
)


def dispatch_units() -> list[OrgUnit]:
    """Units a case may be dispatched to by hand (villages get cases through their town)."""
    return list(OrgUnit.objects.filter(active=True, kind__in=DISPATCH_KINDS).order_by("kind", "code"))


def territories() -> list[OrgUnit]:
    return list(OrgUnit.objects.filter(kind__in=TERRITORIAL_KINDS, active=True).order_by("code"))


def case_by_code(code: str) -> Case | None:
    """Any case by code (for naming the original of a duplicate, a district action)."""
    return Case.objects.filter(code=code.strip()).first() if code.strip() else None


@dataclass(frozen=True)
class Duplicate:
    case: Case
    distance_m: float | None = None


def likely_duplicates(case: Case, limit: int = 5) -> list[Duplicate]:
    """Open cases the duplicates module offers (nearest first), if that module is installed."""
    try:
        duplicates = importlib.import_module("chengguan.cases.duplicates")
    except ImportError:
        return []
    finder = getattr(duplicates, "likely_duplicates", None)
    if finder is None:
        return []
    result: list[Duplicate] = []
    for item in finder(case):
        candidate = getattr(item, "case", item)
        if isinstance(candidate, Case) and candidate.pk != case.pk:
            result.append(Duplicate(candidate, getattr(item, "distance_m", None)))
        if len(result) >= limit:
            break
    return result


# -- the catalogue picker ------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryOption:
    pk: int
    code: str
    name: str


@dataclass(frozen=True)
class CategoryGroup:
    major_code: str
    major_name: str
    kind: str
    categories: list[CategoryOption] = field(default_factory=list)


def category_groups(*, public_only: bool = False, search: str = "") -> list[CategoryGroup]:
    """Active categories grouped by major class (components, then matters), filtered by text.

    Plain rows, not model instances: the picker draws hundreds of them on every page.
    """
    qs = Category.objects.filter(active=True)
    if public_only:
        qs = qs.filter(public=True)
    text = search.strip()
    if text:
        qs = qs.filter(Q(name__icontains=text) | Q(major_name__icontains=text) | Q(code__startswith=text))
    rows = qs.order_by("kind", "major_code", "code").values_list(
        "kind", "major_code", "major_name", "pk", "code", "name"
    )
    groups: list[CategoryGroup] = []
    for (kind, major_code, major_name), items in groupby(rows, key=lambda r: (r[0], r[1], r[2])):
        options = [CategoryOption(pk, code, name) for _k, _mc, _mn, pk, code, name in items]
        groups.append(CategoryGroup(major_code, major_name, kind, options))
    return groups


def category_choices(*, public_only: bool = False) -> QuerySet[Category]:
    qs = Category.objects.filter(active=True)
    return qs.filter(public=True) if public_only else qs


# -- the map -------------------------------------------------------------------------------

DEFAULT_CENTER = (42.27, 118.96)  # 赤峰市红山区, the demo district


def map_center() -> tuple[float, float]:
    """The middle of the active grid, else the demo district."""
    from chengguan.grid.models import GridCell, LayerStatus

    box = GridCell.objects.filter(layer__status=LayerStatus.ACTIVE, level=1).aggregate(
        w=Min("min_lon"), s=Min("min_lat"), e=Max("max_lon"), n=Max("max_lat")
    )
    if box["w"] is None:
        return DEFAULT_CENTER
    return ((box["s"] + box["n"]) / 2, (box["w"] + box["e"]) / 2)


# -- the citizen's view --------------------------------------------------------------------

# Plain strings (marked for translation, translated where shown): the Open311 API sends them as is.
PUBLIC_STATUS: dict[Status, str] = {
    Status.REPORTED: N_("已受理，等待立案"),
    Status.VERIFYING: N_("工作人员正在现场核实"),
    Status.SELF_HANDLED: N_("已现场处置，等待审核"),
    Status.TO_DISPATCH: N_("已立案，正在派遣"),
    Status.VOID_REQUESTED: N_("正在审核"),
    Status.DISPATCHED: N_("已派至责任单位"),
    Status.RETURNED: N_("正在重新派遣"),
    Status.HANDLING: N_("责任单位正在处理"),
    Status.EXTENSION_REQUESTED: N_("责任单位正在处理"),
    Status.DEFERRAL_REQUESTED: N_("责任单位正在处理"),
    Status.DEFERRED: N_("需较长时间解决，已列入计划"),
    Status.HANDLED: N_("已处理，等待核查"),
    Status.CHECKING: N_("工作人员正在现场核查"),
    Status.TO_CLOSE: N_("核查通过，即将办结"),
    Status.CLOSED: N_("已办结"),
    Status.REJECTED: N_("经核实不予立案"),
    Status.VOIDED: N_("已撤销"),
    Status.DUPLICATE: N_("与已有案件重复，合并处理"),
}

# Steps a citizen sees; internal approvals and supervision stay inside the bureau.
PUBLIC_ACTIONS: dict[str, str] = {
    "report": N_("收到您的反映"),
    "send_verify": N_("安排现场核实"),
    "confirm": N_("核实属实"),
    "deny": N_("经核实不属实"),
    "register": N_("立案"),
    "reject": N_("不予立案"),
    "mark_duplicate": N_("与已有案件合并"),
    "dispatch": N_("派至责任单位"),
    "accept": N_("责任单位接收"),
    "return": N_("重新派遣"),
    "report_back": N_("责任单位处理完毕"),
    "send_check": N_("安排现场核查"),
    "check_pass": N_("核查通过"),
    "check_fail": N_("核查未通过，要求返工"),
    "close": N_("办结"),
    "approve_void": N_("撤销"),
    "approve_deferral": N_("列入长期计划"),
    "resume": N_("恢复处理"),
    "rate": N_("您已评价"),
}


@dataclass(frozen=True)
class PublicStep:
    at: dt.datetime
    label: str


@dataclass(frozen=True)
class PublicCase:
    code: str
    category: str
    address: str
    reported_at: dt.datetime
    status: str
    plain_status: str
    closed: bool
    can_rate: bool
    satisfaction: int | None
    steps: list[PublicStep]


def _public_steps(events: Iterable[tuple[str, dt.datetime]]) -> list[PublicStep]:
    return [
        PublicStep(at, gettext(PUBLIC_ACTIONS[action])) for action, at in events if action in PUBLIC_ACTIONS
    ]


def public_case(code: str, token: str) -> PublicCase | None:
    """What a citizen may see of a case, given its code and the follow code (else None)."""
    code, token = code.strip(), token.strip()
    if not code or not token:
        return None
    contact = CitizenContact.objects.filter(case__code=code).select_related("case__category").first()
    # Bytes: compare_digest refuses str with non-ASCII characters, and a citizen may type any.
    if contact is None or not secrets.compare_digest(contact.follow_token.encode(), token.encode()):
        return None
    case = contact.case
    events = CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", "at")
    status = case.status_enum
    return PublicCase(
        code=case.code,
        category=case.category.name,
        address=case.address,
        reported_at=case.reported_at,
        status=status.value,
        plain_status=gettext(PUBLIC_STATUS[status]),
        closed=status is Status.CLOSED,
        can_rate=can_rate(case),
        satisfaction=case.satisfaction,
        steps=_public_steps(events),
    )


def can_rate(case: Case) -> bool:
    """A citizen rates a closed case once."""
    return case.status == Status.CLOSED and case.satisfaction is None


def case_id_for_public(code: str) -> int | None:
    return Case.objects.filter(code=code.strip()).values_list("pk", flat=True).first()


# -- bulk dispatch -------------------------------------------------------------------------


def dispatchable(viewer: Viewer, ids: Sequence[int]) -> list[Case]:
    """The selected cases the viewer may see, in the order picked."""
    found = {c.pk: c for c in cases_for(viewer).filter(pk__in=list(ids)).select_related("category")}
    return [found[i] for i in ids if i in found]


def citizen_contact(case: Case) -> CitizenContact | None:
    return CitizenContact.objects.filter(case=case).first()
