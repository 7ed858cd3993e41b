"""Who hears about what happens to a case, and what they are told.

The service calls :func:`after_transition` inside its transaction; nothing is sent then. The
message goes out after the commit (``transaction.on_commit``) through the background queue,
so a slow or broken SMS gateway never delays, blocks or rolls back a workflow step, and a
step that rolls back notifies nobody.

Audiences (after the national standard's posts):

* dispatch → the lead unit's handlers;
* send_verify / send_check → the inspector sent to the site;
* return / request_extension → the dispatchers;
* automatic supervision of an overdue case → the shift leaders, and the people working on the
  overdue step; supervision by a leader → the people working on the current step;
* the 80 % warning (yellow light) → the people working on the current step.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from chengguan.cases.models import Case, CaseEvent
from chengguan.cases.workflow import Role

logger = logging.getLogger(__name__)


class Audience(StrEnum):
    LEAD_UNIT_HANDLERS = "lead_unit_handlers"
    ASSIGNED_INSPECTOR = "assigned_inspector"
    DISPATCHERS = "dispatchers"
    SHIFT_LEADERS = "shift_leaders"
    STEP_OWNERS = "step_owners"  # whoever must act in the case's current step


# Kinds match chengguan.notify.models.Kind.
ACTION_AUDIENCE: dict[str, tuple[str, tuple[Audience, ...]]] = {
    "dispatch": ("dispatched", (Audience.LEAD_UNIT_HANDLERS,)),
    "send_verify": ("verify_task", (Audience.ASSIGNED_INSPECTOR,)),
    "send_check": ("check_task", (Audience.ASSIGNED_INSPECTOR,)),
    "return": ("returned", (Audience.DISPATCHERS,)),
    "request_extension": ("extension", (Audience.DISPATCHERS,)),
}

# Who must act while a case's clock runs in each step.
STEP_AUDIENCE: dict[str, Audience] = {
    "verify": Audience.ASSIGNED_INSPECTOR,
    "register": Audience.SHIFT_LEADERS,
    "dispatch": Audience.DISPATCHERS,
    "handle": Audience.LEAD_UNIT_HANDLERS,
    "check": Audience.ASSIGNED_INSPECTOR,
}

STEP_LABELS = {"verify": "核实", "register": "立案", "dispatch": "派遣", "handle": "处置", "check": "核查"}


def plan(action: str, actor_role: str) -> tuple[str, tuple[Audience, ...]] | None:
    """The kind of message and its audiences for an event, or None when nobody is told."""
    if action == "supervise":
        if actor_role == Role.SYSTEM:
            return "overdue", (Audience.SHIFT_LEADERS, Audience.STEP_OWNERS)
        return "supervised", (Audience.STEP_OWNERS,)
    return ACTION_AUDIENCE.get(action)


def recipients(case: Case, audiences: tuple[Audience, ...], step: str = "") -> list[Any]:
    """Active users holding the posts of these audiences for this case, each once."""
    from chengguan.org.models import Staff

    staff = Staff.objects.filter(active=True, user__isnull=False, user__is_active=True)
    users: dict[int, Any] = {}

    def add(queryset: Any) -> None:
        for user in get_user_model().objects.filter(staff__in=queryset).order_by("pk"):
            users.setdefault(user.pk, user)

    for audience in audiences:
        if audience is Audience.STEP_OWNERS:
            owner = STEP_AUDIENCE.get(step or case.step)
            if owner is None:
                continue
            audience = owner
        if audience is Audience.LEAD_UNIT_HANDLERS and case.lead_unit_id:
            add(staff.filter(unit_id=case.lead_unit_id, role="handler"))
        elif audience is Audience.ASSIGNED_INSPECTOR and case.assigned_inspector_id:
            add(staff.filter(pk=case.assigned_inspector_id))
        elif audience is Audience.DISPATCHERS:
            add(staff.filter(role="dispatcher"))
        elif audience is Audience.SHIFT_LEADERS:
            add(staff.filter(role="shift_leader"))
    return list(users.values())


def _when(moment: Any) -> str:
    return f"{timezone.localtime(moment):%m月%d日 %H:%M}" if moment else "—"


def _summary(case: Case) -> str:
    description = case.description if len(case.description) <= 60 else case.description[:59] + "…"
    return f"{case.category.name}：{description}（{case.address or '地图定位'}）"


@dataclass(frozen=True)
class Message:
    kind: str
    subject: str
    body: str


def event_message(kind: str, case: Case, event: CaseEvent) -> Message:
    note = f"说明：{event.note}" if event.note else ""
    step = STEP_LABELS.get(str(event.data.get("step", "")) or case.step, "")
    texts = {
        "dispatched": (
            f"新派遣案件 {case.code}",
            f"{_summary(case)}。处置截止 {_when(case.deadline)}。",
        ),
        "verify_task": (
            f"核实任务 {case.code}",
            f"请到现场核实：{_summary(case)}。截止 {_when(case.deadline)}。",
        ),
        "check_task": (
            f"核查任务 {case.code}",
            f"请到现场核查处置结果：{_summary(case)}。截止 {_when(case.deadline)}。",
        ),
        "returned": (
            f"案件回退 {case.code}",
            f"{event.actor_name}回退了案件，请重新派遣。{note}",
        ),
        "extension": (
            f"延期申请 {case.code}",
            f"{event.actor_name}申请延期 {event.data.get('hours', '')} 工作时，请审批。{note}",
        ),
        "overdue": (
            f"案件超期 {case.code}",
            f"{_summary(case)}。{step}环节已于 {_when(event.deadline_before)} 超期，"
            f"系统已自动督办（第 {event.data.get('level', case.supervision_level)} 次督办）。",
        ),
        "supervised": (
            f"督办 {case.code}",
            f"{event.actor_name}督办：{_summary(case)}。{note}",
        ),
    }
    subject, body = texts[kind]
    return Message(kind, subject, body)


def warning_message(case: Case) -> Message:
    step = STEP_LABELS.get(case.step, "")
    return Message(
        "warning",
        f"即将超期 {case.code}",
        f"{_summary(case)}。{step}环节已用去时限的 80% 以上，截止 {_when(case.deadline)}。",
    )


# -- hooks ------------------------------------------------------------------------------------


def after_transition(case: Case, event: CaseEvent) -> None:
    """Called by the service inside its transaction: queue the message for after the commit."""
    if plan(event.action, event.actor_role) is None:
        return
    event_id = event.pk
    transaction.on_commit(lambda: _enqueue("deliver_event", event_id), robust=True)


def after_warning(reminder_id: int) -> None:
    """Called by the warning sweep in the transaction that records the reminder."""
    transaction.on_commit(lambda: _enqueue("deliver_reminder", reminder_id), robust=True)


def _enqueue(task_name: str, object_id: int) -> None:
    # Never raises: the workflow step is committed already, and a queue that is down (Redis
    # unreachable, a full disk) must not turn a successful step into an error page.
    try:
        from chengguan.cases import tasks

        getattr(tasks, task_name)(object_id)
    except Exception:
        logger.exception("通知任务 %s(%s) 未能放入队列", task_name, object_id)


# -- delivery (runs in the worker) ----------------------------------------------------------------


def deliver_event(event_id: int) -> int:
    """Sends the message for one case event; returns how many sends succeeded."""
    from chengguan.notify.services import deliver

    event = (
        CaseEvent.objects.select_related("case__category").filter(pk=event_id).first() if event_id else None
    )
    if event is None:
        return 0
    planned = plan(event.action, event.actor_role)
    if planned is None:
        return 0
    kind, audiences = planned
    case = event.case
    from chengguan.notify.models import EventNotice

    try:
        # The receipt first, in the transaction of the inbox rows: a second run of this task
        # (queued again by a starting worker) waits on it and then finds it; a worker killed
        # here rolls it back with the rows, so the message is neither lost nor doubled in
        # the inbox. (A gateway that got the killed send gets it again: at least once.)
        with transaction.atomic():
            EventNotice.objects.create(event_id=event.pk)
            people = recipients(case, audiences, step=str(event.data.get("step", "")))
            if not people:
                logger.info("案件 %s 的 %s 消息没有接收人", case.code, kind)
                return 0
            message = event_message(kind, case, event)
            return deliver(people, message.subject, message.body, case, message.kind).sent
    except IntegrityError:
        return 0  # delivered already


NOTIFIED_ACTIONS = (*ACTION_AUDIENCE, "supervise")


def undelivered_events(now: Any = None, *, hours: float = 24) -> list[int]:
    """Events of the last ``hours`` whose message has no receipt: their task was lost (a worker
    killed mid-job, a queue that was down). Only events after the first receipt ever written
    count, so a site upgrading to receipts does not resend its recent history."""
    from django.db.models import Exists, Min, OuterRef

    from chengguan.notify.models import EventNotice

    first = EventNotice.objects.aggregate(first=Min("sent_at"))["first"]
    if first is None:
        return []
    since = max(first, (now or timezone.now()) - dt.timedelta(hours=hours))
    return list(
        CaseEvent.objects.filter(at__gte=since, action__in=NOTIFIED_ACTIONS)
        .exclude(Exists(EventNotice.objects.filter(event_id=OuterRef("pk"))))
        .order_by("at")
        .values_list("pk", flat=True)[:10_000]
    )


def deliver_reminder(reminder_id: int) -> int:
    """Sends one 80 % warning's message, at most once; returns how many sends succeeded.

    The receipt (``delivered_at``) is claimed with a conditional UPDATE in the transaction of
    the inbox rows: a second run of the task (queued again by a starting worker or by the
    sweep) finds it taken, on SQLite as on PostgreSQL; a worker killed here rolls both back,
    so the message is neither lost nor doubled in the inbox. A warning whose step clock has
    since ended, paused or moved (the case handled, deferred, extended) is outdated: it is
    marked delivered and nothing is sent.
    """
    from chengguan.notify.models import Reminder
    from chengguan.notify.services import deliver

    with transaction.atomic():
        claimed = Reminder.objects.filter(pk=reminder_id, delivered_at__isnull=True).update(
            delivered_at=timezone.now()
        )
        if not claimed:
            return 0  # delivered already, or no such reminder
        reminder = Reminder.objects.select_related("case__category").get(pk=reminder_id)
        case = reminder.case
        run = (case.step, case.step_started_at, case.deadline)
        if case.paused_at is not None or run != (reminder.step, reminder.started_at, reminder.deadline):
            logger.info("案件 %s 的预警已过时（环节或时限已变），不再发送", case.code)
            return 0
        people = recipients(case, (Audience.STEP_OWNERS,))
        if not people:
            return 0
        message = warning_message(case)
        return deliver(people, message.subject, message.body, case, message.kind).sent


def deliver_warning(case_id: int) -> int:
    """A task queued before reminders had receipts names its case: the case's latest warning
    not yet delivered goes out (once, as any reminder)."""
    from chengguan.notify.models import Kind, Reminder

    pending = (
        Reminder.objects.filter(case_id=case_id, kind=Kind.WARNING, delivered_at__isnull=True)
        .order_by("-sent_at", "-pk")
        .values_list("pk", flat=True)
        .first()
    )
    return deliver_reminder(pending) if pending is not None else 0


def undelivered_reminders(now: Any = None, *, hours: float = 24, older_than: float = 0) -> list[int]:
    """Reminders of the last ``hours`` decided at least ``older_than`` minutes ago whose
    message has not gone out: their task was lost. Older ones are left: a warning a day late
    helps nobody (the overdue sweep has taken over by then)."""
    from chengguan.notify.models import Reminder

    now = now or timezone.now()
    return list(
        Reminder.objects.filter(
            delivered_at__isnull=True,
            sent_at__gte=now - dt.timedelta(hours=hours),
            sent_at__lte=now - dt.timedelta(minutes=older_than),
        )
        .order_by("sent_at")
        .values_list("pk", flat=True)[:10_000]
    )
