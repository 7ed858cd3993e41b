"""Background jobs of the case workflow, run by the huey consumer (`chengguan run_huey`).

* ``flag_overdue`` (every minute): open cases past their step deadline are marked overdue
  and supervised (督办) through the workflow service, once per run of a step clock; cases
  past 80 % of their limit (yellow light) are warned, once.
* ``deliver_event`` / ``deliver_reminder``: send the messages queued after a commit; each
  leaves a receipt, and what has none (a lost task) is queued again when a worker starts and,
  for warnings, by the minute sweep.

The sweeps are plain functions (:func:`sweep_overdue`, :func:`sweep_warnings`) that the
periodic task, the ``flag-overdue`` command and the tests all call.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from chengguan.calendar.selectors import work_calendar
from chengguan.cases import deadlines, notify, services
from chengguan.cases.models import Case
from chengguan.cases.workflow import STEP_OF_STATUS, WorkflowError
from chengguan.core.queue import requeue_on_startup

logger = logging.getLogger(__name__)

# Statuses whose step clock can run; a case in any other status has no deadline to miss.
CLOCKED = sorted(status.value for status, step in STEP_OF_STATUS.items() if step is not None)
OVERDUE_NOTE = "超期自动督办"
# One sweep supervises at most this many cases; the rest wait a minute. It keeps a backlog
# (a worker that was down for a holiday week) from holding the queue for a long time.
SWEEP_BATCH = 2000
# Above this many distinct limits the warning sweep skips its SQL prefilter (and checks every
# running case in Python, still correct, only slower).
MAX_PREFILTER_LIMITS = 200


@dataclass
class SweepReport:
    overdue: list[str] = field(default_factory=list)  # codes supervised now
    warned: list[str] = field(default_factory=list)  # codes warned now
    refused: list[str] = field(default_factory=list)  # codes the workflow would not supervise

    def as_dict(self) -> dict[str, Any]:
        return {"overdue": len(self.overdue), "warned": len(self.warned), "refused": len(self.refused)}


def overdue_cases(now: dt.datetime) -> Any:
    """Open cases whose running step is past its deadline and not flagged yet."""
    return Case.objects.filter(
        status__in=CLOCKED, deadline__lt=now, paused_at__isnull=True, overdue_flagged=False
    )


def sweep_overdue(now: dt.datetime | None = None, *, batch: int = SWEEP_BATCH) -> SweepReport:
    """Flags and supervises every overdue case once per step (at most ``batch`` per call).

    Each case is claimed with a conditional UPDATE (``overdue_flagged`` false → true) in the
    same transaction as its supervision event: two workers sweeping at once never supervise a
    case twice, and a supervision that fails leaves the case unflagged.
    """
    now = now or timezone.now()
    report = SweepReport()
    candidates = list(overdue_cases(now).order_by("deadline", "pk").values_list("pk", "code", "step")[:batch])
    for pk, code, step in candidates:
        try:
            with transaction.atomic():
                claimed = overdue_cases(now).filter(pk=pk).update(overdue_flagged=True)
                if not claimed:
                    continue  # another sweep, or a step change, got there first
                services.transition(
                    pk,
                    services.TransitionInput(
                        action="supervise", note=OVERDUE_NOTE, at=now, data={"auto": True, "step": step}
                    ),
                    None,
                )
        except (WorkflowError, services.CaseError) as exc:
            # Not supervisable in its status: flag it anyway so it is not retried each minute.
            logger.warning("案件 %s 超期但不能自动督办：%s", code, exc)
            overdue_cases(now).filter(pk=pk).update(overdue_flagged=True)
            report.refused.append(code)
        else:
            if claimed:
                report.overdue.append(code)
    return report


def _warning_candidates(now: dt.datetime, calendar: Any) -> Any:
    """Running, unwarned cases that may be past 80 % of their limit (a small superset)."""
    from chengguan.notify.models import Kind, Reminder

    running = Case.objects.filter(
        status__in=CLOCKED,
        paused_at__isnull=True,
        deadline__gt=now,
        step_started_at__lte=now,
        step_limit_hours__isnull=False,
    )
    # Used ≥ 80 % of the limit ⟺ at most 20 % of it is left before the deadline ⟺ the deadline
    # falls no later than now + 20 % of the limit in working time (working time adds up, and
    # adding it is monotonic). Limits come from the catalogue and are few: one exact bound per
    # distinct (limit, extra hours, round-the-clock) turns the rule into a range on the
    # indexed deadline, so only the handful of yellow cases reach Python.
    triples = list(
        running.order_by()
        .values_list("step_limit_hours", "step_extra_hours", "round_the_clock")
        .distinct()[: MAX_PREFILTER_LIMITS + 1]
    )
    if len(triples) <= MAX_PREFILTER_LIMITS:
        ripe = Q(pk__in=[])
        share = 1 - deadlines.GREEN_UNTIL
        for limit, extra, round_the_clock in triples:
            if limit is None:
                continue  # excluded by the query; the annotation cannot say so
            total = Decimal(limit) + Decimal(extra or 0)
            bound = calendar.add(now, total * share, round_the_clock=round_the_clock)
            ripe |= Q(
                step_limit_hours=limit,
                step_extra_hours=extra,
                round_the_clock=round_the_clock,
                deadline__lte=bound,
            )
        running = running.filter(ripe)
    warned = Reminder.objects.filter(
        case=OuterRef("pk"),
        kind=Kind.WARNING,
        step=OuterRef("step"),
        started_at=OuterRef("step_started_at"),
        deadline=OuterRef("deadline"),
    )
    return running.filter(~Exists(warned))


def sweep_warnings(now: dt.datetime | None = None, *, calendar: Any = None) -> SweepReport:
    """Warns once about each running step that has used 80 % of its limit (yellow light)."""
    from chengguan.notify.models import Kind, Reminder

    now = now or timezone.now()
    calendar = calendar or work_calendar()
    report = SweepReport()
    rows = _warning_candidates(now, calendar).values_list(
        "pk",
        "code",
        "step",
        "step_started_at",
        "step_limit_hours",
        "step_extra_hours",
        "deadline",
        "round_the_clock",
    )
    for pk, code, step, started, limit, extra, deadline, round_the_clock in rows.iterator(chunk_size=2000):
        clock = deadlines.StepClock(
            step, started, Decimal(limit), Decimal(extra), None, deadline, round_the_clock
        )
        if deadlines.light(calendar, clock, now) != "yellow":
            continue
        with transaction.atomic():
            _reminder, created = Reminder.objects.get_or_create(
                case_id=pk, kind=Kind.WARNING, step=step, started_at=started, deadline=deadline
            )
            if created:
                notify.after_warning(_reminder.pk)
                report.warned.append(code)
    return report


# A warning whose message has not gone out this many minutes after it was decided lost its
# task (the queue was down when it was handed over): the sweep queues it again.
REQUEUE_AFTER_MINUTES = 5


def requeue_reminders(now: dt.datetime | None = None) -> int:
    """Queue again the warnings whose task was lost; returns how many."""
    pending = notify.undelivered_reminders(now, older_than=REQUEUE_AFTER_MINUTES)
    for reminder_id in pending:
        deliver_reminder(reminder_id)
    if pending:
        logger.warning("%s 条预警消息未发出，已重新排队", len(pending))
    return len(pending)


def sweep(now: dt.datetime | None = None) -> SweepReport:
    now = now or timezone.now()
    overdue = sweep_overdue(now)
    warned = sweep_warnings(now)
    requeue_reminders(now)
    return SweepReport(overdue.overdue, warned.warned, overdue.refused)


@db_periodic_task(crontab(minute="*"), name="cases.flag_overdue")
@HUEY.lock_task("cases.flag_overdue")
def flag_overdue() -> dict[str, Any]:
    """Every minute: supervise overdue cases, warn about yellow ones (one sweep at a time)."""
    result = sweep().as_dict()
    if result["overdue"] or result["warned"]:
        logger.info("超期督办 %(overdue)s 件，预警 %(warned)s 件", result)
    return result


@db_task(name="cases.deliver_event")
def deliver_event(event_id: int) -> int:
    return notify.deliver_event(event_id)


@db_task(name="cases.deliver_reminder")
def deliver_reminder(reminder_id: int) -> int:
    return notify.deliver_reminder(reminder_id)


# The task name of versions before reminders had receipts: tasks already in the queue at an
# upgrade name a case.
@db_task(name="cases.deliver_warning")
def deliver_warning(case_id: int) -> int:
    return notify.deliver_warning(case_id)


# A worker killed while sending an event's message lost that task; its receipt was never
# committed, so a starting worker finds the event and queues it again (``deliver_event``
# skips any that did go out).
requeue_on_startup("cases.requeue_notices", notify.undelivered_events, deliver_event)
requeue_on_startup("cases.requeue_reminders", notify.undelivered_reminders, deliver_reminder)
