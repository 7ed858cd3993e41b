"""Writes on cases: report, and every workflow transition.

Each write is one transaction that locks the case row, checks the workflow table, applies the
clock, bumps the version and appends exactly one event. A stale form (an expected version
that is no longer current) loses with a message that the case changed meanwhile.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from chengguan.cases import deadlines, notify, workflow
from chengguan.cases.config import intake_config, intake_configs
from chengguan.cases.models import (
    PUBLIC_CHANNELS,
    Attachment,
    AttachmentKind,
    Case,
    CaseEvent,
    Channel,
    CitizenContact,
    DailyCounter,
    Urgency,
)
from chengguan.cases.workflow import STEP_OF_STATUS, Actor, CaseFacts, Role, Status
from chengguan.catalog.limits import LimitRow, choose_limit
from chengguan.catalog.models import Category
from chengguan.catalog.selectors import time_limit_rows
from chengguan.core.bulk import insert_new, insert_prepared, prepare_new
from chengguan.org.models import OrgUnit, Staff
from chengguan.security.uploads import safe_filename

# Used when the catalogue has no limit for a step: a bureau should enter its own.
FALLBACK_LIMITS: dict[str, Decimal] = {
    "verify": Decimal(2),
    "register": Decimal(1),
    "dispatch": Decimal(1),
    "handle": Decimal(16),
    "check": Decimal(4),
}


class CaseError(Exception):
    """Bad input to a case service; the message is for the clerk."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


class StaleCase(CaseError):
    pass


@dataclass(frozen=True)
class Location:
    # The id only: the locator knows it, and fetching the unit would cost a query per case.
    territory_id: int | None = None
    unit_grid: str = ""
    area_grid: str = ""
    responsibility_grid: str = ""
    management_grid: str = ""

    @property
    def grid_codes(self) -> tuple[str, ...]:
        """Finest level first, the order routing wants."""
        return tuple(
            c for c in (self.unit_grid, self.area_grid, self.responsibility_grid, self.management_grid) if c
        )


def locate(lat: float | None, lon: float | None, *, locator: Any = None) -> Location | None:
    """The point's four grid cells and territory; None when the point is outside the grid.

    Without an active grid (a fresh installation) every point is accepted, unlocated. A batch
    (an import, the intake benchmark) may pass the active grid's ``locator`` to skip the
    per-call check that the grid has not changed.
    """
    if lat is None or lon is None:
        return Location()
    from chengguan.grid.selectors import locate as grid_locate

    found = locator.locate(lon, lat) if locator is not None else grid_locate(lon, lat)
    if found is None:
        return Location()
    if not found.found:
        return None
    return Location(
        territory_id=found.territory_id or None,
        unit_grid=found.unit.code if found.unit else "",
        area_grid=found.area.code if found.area else "",
        responsibility_grid=found.responsibility.code if found.responsibility else "",
        management_grid=found.management.code if found.management else "",
    )


@dataclass
class CitizenInfo:
    name: str = ""
    phone: str = ""
    email: str = ""


@dataclass
class ReportInput:
    category: Category
    description: str
    channel: str
    lat: float | None = None
    lon: float | None = None
    address: str = ""
    reporter_staff: Staff | None = None
    reporter_user: User | None = None
    citizen: CitizenInfo | None = None
    urgency: str = Urgency.NORMAL
    self_handled: bool = False
    territory: OrgUnit | None = None
    quantity: Decimal | None = None
    quantity_unit: str = ""
    tags: list[str] = field(default_factory=list)
    area_class: str = "B"
    work_kind: str = "ordinary"
    at: dt.datetime | None = None


def _reserve_codes(day: dt.date, count: int) -> list[str]:
    """``count`` consecutive readable codes of ``day``, gap-free.

    One ``UPDATE … SET last = last + count … RETURNING`` (PostgreSQL, SQLite ≥ 3.35) both
    takes the counter row's lock until the caller's transaction ends and reads the new value,
    whatever the count: a batch costs the same single statement as one report. The row is
    made on the first case of the day. If the transaction rolls back, so does the counter.
    """
    table = connection.ops.quote_name(DailyCounter._meta.db_table)
    value = connection.ops.adapt_datefield_value(day)
    sql = f"UPDATE {table} SET last = last + %s WHERE day = %s RETURNING last"
    with connection.cursor() as cursor:
        cursor.execute(sql, [count, value])
        row = cursor.fetchone()
        if row is None:
            DailyCounter.objects.get_or_create(day=day)
            cursor.execute(sql, [count, value])
            row = cursor.fetchone()
    last = int(row[0])
    return [f"{day:%Y%m%d}{n:05d}" for n in range(last - count + 1, last + 1)]


def _next_code(day: dt.date) -> str:
    return _reserve_codes(day, 1)[0]


def _limit(
    category: Category,
    step: str | None,
    area_class: str,
    work_kind: str,
    rows: Sequence[LimitRow] | None = None,
) -> Decimal | None:
    if not step:
        return None
    # ``rows`` come from the per-process intake snapshot; without them, time_limit_rows reads
    # a prefetch of the category's limits when the caller made one, else it costs one query.
    if rows is None:
        rows = time_limit_rows(category)
    chosen = choose_limit(rows, step, area_class, work_kind)
    return chosen.hours if chosen is not None else FALLBACK_LIMITS[step]


def _validate_report(data: ReportInput) -> None:
    if not data.description.strip():
        raise CaseError("请填写问题描述。", "description")
    if len(data.description) > 4000:
        raise CaseError("问题描述不能超过 4000 字。", "description")
    if data.channel not in Channel.values:
        raise CaseError(f"未知的来源渠道“{data.channel}”。", "channel")
    if not data.category.active:
        raise CaseError("该类别已停用，请选择其他类别。", "category")
    if (data.lat is None) != (data.lon is None):
        raise CaseError("经纬度必须同时填写。", "lat")
    if data.lat is not None and not (-90 <= data.lat <= 90 and -180 <= data.lon <= 180):  # type: ignore[operator]
        raise CaseError("经纬度超出范围。", "lat")
    if data.lat is None and not data.address.strip():
        raise CaseError("请在地图上选点或填写地址。", "address")
    # Lengths of the columns: PostgreSQL would refuse the insert (for a batch, the whole
    # batch), SQLite would store it; either way the clerk deserves a message of their own.
    if len(data.address.strip()) > 200:
        raise CaseError("地址不能超过 200 字。", "address")
    if data.citizen is not None and len(data.citizen.name.strip()) > 50:
        raise CaseError("举报人姓名不能超过 50 字。", "citizen_name")
    if data.citizen is not None and len(data.citizen.phone.strip()) > 20:
        raise CaseError("举报人电话不能超过 20 位。", "citizen_phone")
    if data.self_handled and data.reporter_staff is None:
        raise CaseError("只有巡查员可以当场自行处置。", "self_handled")


@dataclass(frozen=True)
class _Draft:
    """A checked report with everything worked out before any write: place, status, clock."""

    data: ReportInput
    at: dt.datetime
    where: Location
    status: Status
    clock: deadlines.StepClock
    round_the_clock: bool

    @property
    def local_day(self) -> dt.date:
        return timezone.localtime(self.at).date()


IntakeLookup = Callable[[int], tuple[Any, Sequence[LimitRow]]]


def _prepare(data: ReportInput, calendar: Any, locator: Any, lookup: IntakeLookup = intake_config) -> _Draft:
    """Validate, locate and clock one report, or raise CaseError. Reads, never writes."""
    _validate_report(data)
    at = data.at or timezone.now()
    rows: Sequence[LimitRow] | None = None
    located = data.lat is None or locator is not None  # nothing (more) to look up for the point
    if calendar is None or not located:
        config, rows = lookup(data.category.pk)
        calendar = calendar if calendar is not None else config.calendar
        locator = locator if locator is not None else config.locator
    where = locate(data.lat, data.lon, locator=locator) if locator is not None else Location()
    if where is None:
        raise CaseError("该位置不在本区网格范围内，请确认位置。", "lat")
    status = Status.SELF_HANDLED if data.self_handled else Status.REPORTED
    round_the_clock = data.category.round_the_clock or data.urgency == Urgency.URGENT
    step = STEP_OF_STATUS[status]
    clock = deadlines.start(
        calendar,
        step,
        at,
        _limit(data.category, step, data.area_class, data.work_kind, rows),
        round_the_clock=round_the_clock,
    )
    return _Draft(data, at, where, status, clock, round_the_clock)


def _build(draft: _Draft, code: str) -> tuple[Case, CitizenContact | None, CaseEvent]:
    """The unsaved case, citizen contact (public channels, or when given) and first event.

    The one place their fields are set: report() saves them one by one, report_many()
    inserts a batch of them at once.
    """
    data, where, clock = draft.data, draft.where, draft.clock
    case = Case(
        code=code,
        channel=data.channel,
        category=data.category,
        description=data.description.strip(),
        address=data.address.strip(),
        lat=data.lat,
        lon=data.lon,
        territory_id=where.territory_id or (data.territory.pk if data.territory else None),
        unit_grid=where.unit_grid,
        area_grid=where.area_grid,
        responsibility_grid=where.responsibility_grid,
        management_grid=where.management_grid,
        area_class=data.area_class,
        work_kind=data.work_kind,
        reporter_staff=data.reporter_staff,
        reporter_user=data.reporter_user,
        urgency=data.urgency,
        quantity=data.quantity,
        quantity_unit=data.quantity_unit,
        tags=list(data.tags),
        disposition_mode=data.category.disposition_mode,
        status=draft.status,
        step=clock.step,
        step_started_at=clock.started_at,
        step_limit_hours=clock.limit_hours,
        deadline=clock.deadline,
        round_the_clock=draft.round_the_clock,
        reported_at=draft.at,
    )
    contact: CitizenContact | None = None
    if data.citizen is not None or data.channel in PUBLIC_CHANNELS:
        citizen = data.citizen or CitizenInfo()
        contact = CitizenContact(
            case=case,
            name=citizen.name.strip(),
            phone=citizen.phone.strip(),
            email=citizen.email.strip(),
            follow_token=secrets.token_urlsafe(12),
        )
    first = _new_event(
        case,
        action="self_handle" if data.self_handled else "report",
        label="上报并自行处置" if data.self_handled else "上报",
        user=data.reporter_user,
        actor_name=data.reporter_staff.name
        if data.reporter_staff
        else (data.citizen.name if data.citizen else ""),
        actor_role=data.reporter_staff.role if data.reporter_staff else "citizen",
        from_status="",
        to_status=draft.status,
        at=draft.at,
        note="",
        before=None,
        after=clock.deadline,
        data={"channel": data.channel},
        seq=1,  # a new case: no query for the last sequence number
    )
    return case, contact, first


def report(
    data: ReportInput,
    *,
    calendar: Any = None,
    locator: Any = None,
    photos: Sequence[PhotoLike] = (),
) -> Case:
    """A new case from any channel. Located, clocked and recorded with its first event.

    The working calendar, the grid locator and the time limits come from the per-process
    snapshot (``cases.config``), checked for changes with one query. A batch that fetched
    ``calendar`` and ``locator`` itself (an import, the intake benchmark) may pass them to skip
    that query (the locator only matters for a report with a point); the category's limits
    then come from its ``time_limits`` prefetch.

    ``photos`` (checked pictures: ``upload``, ``content_type``, ``extension``) are stored with
    the first event in the same transaction; if anything fails, no row and no file remain.
    """
    draft = _prepare(data, calendar, locator)
    with _storing(), transaction.atomic():
        # Everything above ran outside the transaction; the day counter's row lock (taken in
        # _next_code, the first statement here) serialises every report of the day, so it
        # is held only for the inserts below.
        case, contact, first = _build(draft, _next_code(draft.local_day))
        case.save(force_insert=True)
        if contact is not None:
            contact.save(force_insert=True)
        first.save(force_insert=True)
        for photo in photos:
            attach(
                case,
                photo.upload,
                AttachmentKind.BEFORE,
                content_type=photo.content_type,
                extension=photo.extension,
                event=first,
            )
    return case


@dataclass(frozen=True)
class InputError:
    """A refused input of a batch: its position, the field at fault, the clerk's message."""

    index: int
    field: str
    message: str


@dataclass
class BatchReport:
    """What report_many() did: the cases created (with the position of their input, in input
    order) and the inputs refused. Every input is in exactly one of the two."""

    created: list[tuple[int, Case]] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)

    @property
    def cases(self) -> list[Case]:
        return [case for _, case in self.created]

    @property
    def codes(self) -> list[str]:
        return [case.code for _, case in self.created]


def _drafts(
    inputs: Sequence[ReportInput], calendar: Any, locator: Any
) -> tuple[list[tuple[int, _Draft]], list[InputError]]:
    """Each input prepared as report() prepares it, or refused; the snapshot is checked with
    one query for all the categories of the batch rather than once per input."""
    looked_up: dict[int, tuple[Any, Sequence[LimitRow]]] = {}
    if calendar is None or locator is None:
        config, limits = intake_configs(data.category.pk for data in inputs)
        looked_up = {category_id: (config, rows) for category_id, rows in limits.items()}

    def lookup(category_id: int) -> tuple[Any, Sequence[LimitRow]]:
        if category_id not in looked_up:  # a category deleted meanwhile: asked for on its own
            looked_up[category_id] = intake_config(category_id)
        return looked_up[category_id]

    drafts: list[tuple[int, _Draft]] = []
    errors: list[InputError] = []
    for index, data in enumerate(inputs):
        try:
            drafts.append((index, _prepare(data, calendar, locator, lookup)))
        except CaseError as exc:
            errors.append(InputError(index, exc.field, str(exc)))
    return drafts, errors


def check_many(
    inputs: Sequence[ReportInput], *, calendar: Any = None, locator: Any = None
) -> list[InputError]:
    """The inputs report_many() would refuse, and why; writes nothing (an import's dry run)."""
    return _drafts(inputs, calendar, locator)[1]


def report_many(
    inputs: Sequence[ReportInput],
    *,
    calendar: Any = None,
    locator: Any = None,
    within: Callable[[BatchReport], None] | None = None,
) -> BatchReport:
    """Many reports at once (a 12345 hand-over, a camera or drone feed): each input gets
    exactly what report() would give it, in one transaction for the whole batch.

    An input that fails validation or location is not created and comes back in ``errors``
    (position, field, message); the others are created. The codes of the batch are reserved
    with one counter statement per local day, in input order, gap-free. If the database
    refuses any insert, the whole batch is rolled back: no case, no event, no consumed code.
    ``calendar`` and ``locator`` as for report(); without them the snapshot is checked once
    for the whole batch.

    ``within`` is called with the result inside the batch's transaction, after the inserts:
    rows of the caller's that must commit or roll back with the cases (an Open311 request's
    own row) go there, without a nested savepoint.
    """
    if not connection.features.can_return_rows_from_bulk_insert:
        # Events and contacts need the new cases' ids; without RETURNING we would have to
        # guess them, and a guess is not good enough for case history.
        raise RuntimeError("report_many needs PostgreSQL or SQLite ≥ 3.35 (INSERT … RETURNING).")
    result = BatchReport()
    drafts, result.errors = _drafts(inputs, calendar, locator)
    if not drafts:
        return result
    per_day: dict[dt.date, int] = {}
    for _, draft in drafts:
        per_day[draft.local_day] = per_day.get(draft.local_day, 0) + 1
    # Everything but the codes is built and converted to column values before the transaction:
    # the day counter's row lock (taken by its first statement) serialises every report of the
    # district, so it is held for the inserts only, not for this Python work.
    built = [_build(draft, "") for _, draft in drafts]
    cases = [case for case, _, _ in built]
    contacts = [contact for _, contact, _ in built if contact is not None]
    events = [event for _, _, event in built]
    # insert_new / prepare_new (chengguan.core.bulk: Django's own field conversions, one
    # statement per model, without bulk_create's per-call compiler) skip save() and the save
    # signals. Nothing is lost: CaseEvent.save only refuses events that already have an id
    # (these are new; the PostgreSQL triggers refuse updates and deletes, not inserts) and
    # Case.save is Django's own. The signals are sent here as save() would send them, case by
    # case, so every receiver (webhook deliveries, Open311 cache tokens) sees each new row
    # exactly once.
    using = connection.alias
    in_save_order: list[Case | CitizenContact | CaseEvent] = [
        obj for row in built for obj in row if obj is not None
    ]
    for obj in in_save_order:
        pre_save.send(sender=type(obj), instance=obj, raw=False, using=using, update_fields=None)
    prepared_cases = prepare_new(cases)
    assert prepared_cases is not None
    with transaction.atomic():
        # Counter rows locked in day order, so two batches spanning the same days cannot
        # deadlock; as in report(), these are the transaction's first statements.
        codes = {day: iter(_reserve_codes(day, per_day[day])) for day in sorted(per_day)}
        prepared_cases.set_column("code", [next(codes[draft.local_day]) for _, draft in drafts])
        insert_prepared(prepared_cases)
        insert_new(contacts)  # case ids taken from the cases above
        insert_new(events)
        for obj in in_save_order:
            post_save.send(
                sender=type(obj), instance=obj, created=True, raw=False, using=using, update_fields=None
            )
        result.created = [(index, case) for (index, _), case in zip(drafts, cases, strict=True)]
        if within is not None:
            within(result)
    return result


# -- photos ----------------------------------------------------------------------------------


class PhotoLike(Protocol):
    """A checked picture (``cases.forms.CheckedPhoto`` is one): the forms check, we store."""

    upload: Any
    content_type: str
    extension: str


PHOTO_EXTENSIONS = {".jpg": "image/jpeg", ".png": "image/png", ".webp": "image/webp"}

# Files stored by attach() in the services' transaction on this thread, deleted if it fails.
_stored = threading.local()


@contextmanager
def _storing() -> Iterator[None]:
    """Around a service's transaction: the files attach() stores in it are removed again when
    the transaction does not commit, so a failed write leaves neither a row nor a file.

    (A caller that wraps a service in a transaction of its own and rolls that back later is
    outside this guarantee: pass the photos to the service instead.)
    """
    names: list[str] = []
    stack = getattr(_stored, "stack", None)
    if stack is None:
        stack = _stored.stack = []
    stack.append(names)
    try:
        yield
    except BaseException:
        storage = Attachment._meta.get_field("file").storage
        for name in names:
            storage.delete(name)
        raise
    finally:
        stack.pop()


def attach(
    case: Case,
    file: Any,
    kind: str,
    *,
    content_type: str,
    extension: str,
    event: CaseEvent | None = None,
) -> Attachment:
    """Store one checked photo of ``case`` (optionally of one of its events) and its row.

    Call it inside the transaction of the step it belongs to (``report``/``transition`` do so
    for their ``photos``): the bytes go to Django's storage under a name of our own (never the
    uploader's), the row follows; if the row or anything later in a service's transaction
    fails, the stored file is deleted again.
    """
    if kind not in AttachmentKind.values:
        raise CaseError(f"未知的照片类型“{kind}”。", "photos")
    if PHOTO_EXTENSIONS.get(extension) != content_type:
        raise CaseError("照片格式无效，请上传 JPG、PNG 或 WebP 图片。", "photos")
    size = getattr(file, "size", None)
    attachment = Attachment(
        case=case,
        event=event,
        kind=kind,
        token=secrets.token_hex(16),
        extension=extension,
        content_type=content_type,
        size=size or 0,
        # Shown to staff only, but cleaned all the same: no directories, no control characters.
        original_name=safe_filename(getattr(file, "name", "") or "", default="photo")[:200],
    )
    storage = attachment.file.storage
    attachment.file.save(f"{attachment.token}{extension}", file, save=False)
    stack = getattr(_stored, "stack", None)
    if stack:
        stack[-1].append(attachment.file.name)
    try:
        attachment.save()
    except BaseException:
        if not stack:  # no service around us to clean up
            storage.delete(attachment.file.name)
        raise
    return attachment


def _new_event(
    case: Case,
    *,
    action: str,
    label: str,
    user: Any,
    actor_name: str,
    actor_role: str,
    from_status: str,
    to_status: str,
    at: dt.datetime,
    note: str,
    before: dt.datetime | None,
    after: dt.datetime | None,
    data: dict[str, Any],
    seq: int,
) -> CaseEvent:
    """An unsaved event of ``case``: the one place an event's fields are set."""
    return CaseEvent(
        case=case,
        seq=seq,
        action=action,
        label=label,
        actor=user if getattr(user, "pk", None) else None,
        actor_name=actor_name,
        actor_role=actor_role,
        from_status=from_status,
        to_status=to_status,
        at=at,
        note=note,
        deadline_before=before,
        deadline_after=after,
        data=data,
    )


def _append(case: Case, *, seq: int | None = None, **fields: Any) -> CaseEvent:
    """Save the next event of ``case`` (fields as for _new_event)."""
    if seq is None:
        last = CaseEvent.objects.filter(case=case).order_by("-seq").values_list("seq", flat=True).first()
        seq = (last or 0) + 1
    event = _new_event(case, seq=seq, **fields)
    event.save(force_insert=True)
    return event


@dataclass
class Who:
    """The acting person as the workflow sees them."""

    user: Any
    staff: Staff | None
    roles: frozenset[Role]
    name: str

    @classmethod
    def of(cls, user: Any) -> Who:
        if user is None:
            return cls(None, None, frozenset({Role.SYSTEM}), "系统")
        staff = Staff.objects.filter(user=user, active=True).select_related("unit").first()
        roles: set[Role] = set()
        if staff is not None and staff.role in Role.__members__.values():
            roles.add(Role(staff.role))
        if staff is not None and staff.role in {"assistant", "bicycle_assistant"}:
            roles.add(Role.INSPECTOR)  # grid assistants patrol and verify like inspectors
        name = staff.name if staff else (user.get_full_name() or user.get_username())
        return cls(user, staff, frozenset(roles), name)


@dataclass
class TransitionInput:
    action: str
    note: str = ""
    expected_version: int | None = None
    lead_unit: OrgUnit | None = None
    co_handlers: Sequence[OrgUnit] = ()
    inspector: Staff | None = None
    extension_hours: Decimal | None = None
    duplicate_of: Case | None = None
    satisfaction: int | None = None
    citizen_token: str = ""
    at: dt.datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)


def actor_on(roles: frozenset[Role], staff: Staff | None, case: Case, *, is_reporter: bool = False) -> Actor:
    """The workflow's view of a person on one case: the single place scope facts are derived.

    An inspector may act on a verification or check task sent to them, or on one that was
    sent to nobody in particular (any inspector on duty may then take it).
    """
    return Actor(
        roles=roles,
        unit_id=staff.unit_id if staff else None,
        is_assigned_inspector=bool(staff and case.assigned_inspector_id == staff.pk)
        or bool(staff and Role.INSPECTOR in roles and case.assigned_inspector_id is None),
        is_reporter=is_reporter,
    )


def transition(
    case_id: int,
    change: TransitionInput,
    user: Any,
    *,
    calendar: Any = None,
    routes: Any = None,
    photos: Sequence[PhotoLike] = (),
    photo_kind: str = AttachmentKind.AFTER,
) -> Case:
    """Take one workflow action on a case, or raise WorkflowError / CaseError / StaleCase.

    A batch (bulk dispatch) may pass the working ``calendar`` and the routing index
    (``routing.services.load_index()``, as ``routes``) it loaded once; otherwise both come
    from per-process caches that notice changes. ``photos`` are stored with the new event in
    the same transaction (see :func:`report`).
    """
    who = Who.of(user)
    with _storing(), transaction.atomic():
        try:
            case = Case.objects.select_for_update().select_related("category").get(pk=case_id)
        except Case.DoesNotExist:
            raise CaseError("案件不存在。", "case") from None
        from_status = case.status
        if change.expected_version is not None and change.expected_version != case.version:
            raise StaleCase("案件已被他人处理（状态已变化），请刷新后重试。")
        actor = actor_on(
            who.roles | (frozenset({Role.CITIZEN}) if change.citizen_token else frozenset()),
            who.staff,
            case,
            is_reporter=bool(change.citizen_token) and _token_matches(case, change.citizen_token),
        )
        step = workflow.check(
            change.action, CaseFacts(case.status_enum, case.lead_unit_id, bool(change.note.strip())), actor
        )
        at = change.at or timezone.now()
        before = case.deadline
        # The snapshot check reads the calendar and this category's limits (one query).
        config, limit_rows = intake_config(case.category_id)
        if calendar is None:
            calendar = config.calendar
        event_data = dict(change.data)
        _apply_effects(case, step, change, at, event_data, routes)
        target = step.target or case.status_enum
        new_step = STEP_OF_STATUS[target]
        clock = deadlines.apply(
            calendar,
            deadlines.StepClock(
                case.step,
                case.step_started_at,
                case.step_limit_hours,
                case.step_extra_hours,
                case.paused_at,
                case.deadline,
                case.round_the_clock,
            ),
            step.clock,
            at,
            new_step=new_step,
            new_limit=_limit(case.category, new_step, case.area_class, case.work_kind, limit_rows),
            extra_hours=change.extension_hours or Decimal(0),
        )
        if step.action == "report_back":
            case.handled_on_time = case.deadline is None or at <= case.deadline
            case.handled_at = at
        case.status = target
        case.step, case.step_started_at, case.step_limit_hours = (
            clock.step,
            clock.started_at,
            clock.limit_hours,
        )
        case.step_extra_hours, case.paused_at, case.deadline = (
            clock.extra_hours,
            clock.paused_at,
            clock.deadline,
        )
        if clock.step == "handle":
            case.handle_deadline = clock.deadline
        if step.clock in (workflow.Clock.START, workflow.Clock.RESUME, workflow.Clock.EXTEND):
            case.overdue_flagged = False
        case.version += 1
        case.save()
        event = _append(
            case,
            action=step.action,
            label=step.label,
            user=user,
            actor_name=who.name if not actor.is_reporter else "举报人",
            actor_role=sorted(who.roles)[0]
            if who.roles and not actor.is_reporter
            else ("citizen" if actor.is_reporter else ""),
            from_status=from_status,
            to_status=target,
            at=at,
            note=change.note.strip(),
            before=before,
            after=case.deadline,
            data=event_data,
        )
        for photo in photos:
            attach(
                case,
                photo.upload,
                photo_kind,
                content_type=photo.content_type,
                extension=photo.extension,
                event=event,
            )
        # Sent after the commit, through the queue: a failing notifier never undoes this step.
        notify.after_transition(case, event)
    return case


def _token_matches(case: Case, token: str) -> bool:
    stored = CitizenContact.objects.filter(case=case).values_list("follow_token", flat=True).first()
    # Bytes: compare_digest refuses str with non-ASCII characters, and a citizen may type any.
    return stored is not None and secrets.compare_digest(stored.encode(), token.encode())


def _apply_effects(
    case: Case,
    step: workflow.Transition,
    change: TransitionInput,
    at: dt.datetime,
    data: dict[str, Any],
    routes: Any = None,
) -> None:
    """What an action changes on the case besides status and clock."""
    action = step.action
    if action in {"send_verify", "send_check"}:
        if change.inspector is None:
            raise CaseError("请选择负责到场的巡查员。", "inspector")
        if (
            change.inspector.role not in {"inspector", "assistant", "bicycle_assistant"}
            or not change.inspector.active
        ):
            raise CaseError("所选人员不是在岗巡查员。", "inspector")
        case.assigned_inspector = change.inspector
        data["inspector"] = change.inspector.code
    elif action == "register":
        case.registered_at = at
    elif action == "dispatch":
        lead = change.lead_unit
        co = list(change.co_handlers)
        if lead is None:
            from chengguan.routing.services import route

            answer = route(
                case.category, territory=case.territory, grid_codes=_grid_codes(case), index=routes
            )
            if answer is None:
                raise CaseError("责任矩阵中没有该类别在此位置的派遣规则，请手动选择主办单位。", "lead_unit")
            lead, co = answer.lead_unit, answer.co_handlers
            case.routing_note = f"{answer.reason}：{answer.rule.place_label}"[:200]
        else:
            case.routing_note = "派遣员手动指定"
        if not lead.active:
            raise CaseError("所选主办单位已停用。", "lead_unit")
        co = [u for u in co if u.pk != lead.pk]
        case.lead_unit = lead
        case.dispatched_at = at
        case.save(update_fields=["lead_unit", "routing_note", "dispatched_at"])
        case.co_handlers.set(co)
        data.update(
            {"lead_unit": lead.code, "co_handlers": [u.code for u in co], "routing": case.routing_note}
        )
    elif action == "return":
        case.return_count += 1
        data["lead_unit"] = case.lead_unit.code if case.lead_unit else ""
    elif action == "request_extension":
        hours = change.extension_hours
        if hours is None or hours <= 0 or hours > 2000:
            raise CaseError("请填写申请延期的工作时数（大于 0）。", "extension_hours")
        data["hours"] = str(hours)
    elif action == "approve_extension":
        requested = (
            CaseEvent.objects.filter(case=case, action="request_extension")
            .order_by("-seq")
            .values_list("data", flat=True)
            .first()
            or {}
        )
        hours = change.extension_hours or Decimal(str(requested.get("hours", "0")))
        if hours <= 0:
            raise CaseError("延期时数必须大于 0。", "extension_hours")
        change.extension_hours = hours
        case.extension_count += 1
        data["hours"] = str(hours)
    elif action == "check_fail":
        case.rework_count += 1
    elif action in {"close", "approve_self_handling"}:
        case.closed_at = at
    elif action == "mark_duplicate":
        original = change.duplicate_of
        if original is None or original.pk == case.pk:
            raise CaseError("请指定与之重复的原案件。", "duplicate_of")
        case.duplicate_of = original
        data["duplicate_of"] = original.code
    elif action == "supervise":
        case.supervision_level += 1
        data["level"] = case.supervision_level
    elif action == "rate":
        if case.satisfaction is not None:
            raise CaseError("该案件已评价，不能重复评价。", "satisfaction")
        if change.satisfaction not in {1, 2, 3, 4, 5}:
            raise CaseError("满意度请在 1 到 5 之间选择。", "satisfaction")
        case.satisfaction = change.satisfaction
        data["satisfaction"] = change.satisfaction


def _grid_codes(case: Case) -> tuple[str, ...]:
    return tuple(
        c for c in (case.unit_grid, case.area_grid, case.responsibility_grid, case.management_grid) if c
    )


def is_public(channel: str) -> bool:
    return channel in PUBLIC_CHANNELS
