"""The overdue sweep and the 80 % warning, on real cases through the real services.

Times are fixed days of November 2026 (08–12, 14–18 working periods). The periodic task
itself reads the clock, so its tests use days long past; the sweep functions take ``now``.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connection

from chengguan.cases import notify, tasks
from chengguan.cases.models import Case, CaseEvent
from chengguan.cases.tests.conftest import at
from chengguan.cases.workflow import Status
from chengguan.notify.models import Notification, Reminder

MON = "2026-11-23"  # a Monday with no holiday
T = TypeVar("T")


def supervisions(case: Case) -> list[CaseEvent]:
    return list(case.events.filter(action="supervise").order_by("seq"))


def dispatched(world, when_report: str = "09:00"):
    case = world.report(at(MON, when_report))
    case = world.act(case, "register", "shift_leader", at(MON, "09:30"))
    return world.act(case, "dispatch", "dispatcher", at(MON, "09:40"))  # handle: 4 h → 15:40


def test_periodic_task_supervises_an_overdue_case_once(world) -> None:
    late = world.report(at(MON, "09:00"))  # register within 1 working hour: due 10:00, long past
    on_time = world.report(at("2099-01-05", "09:00"))  # due in the far future
    tasks.flag_overdue()  # huey immediate mode under pytest: runs here and now
    late.refresh_from_db()
    on_time.refresh_from_db()
    [event] = supervisions(late)
    assert event.note == tasks.OVERDUE_NOTE and event.actor_role == "system" and event.actor_id is None
    assert event.from_status == event.to_status == Status.REPORTED
    assert event.data == {"auto": True, "step": "register", "level": 1}
    assert late.overdue_flagged and late.supervision_level == 1 and late.status == Status.REPORTED
    assert not supervisions(on_time) and not on_time.overdue_flagged
    tasks.flag_overdue()
    late.refresh_from_db()
    assert len(supervisions(late)) == 1 and late.supervision_level == 1


def test_each_step_is_supervised_at_most_once(world) -> None:
    case = world.report(at(MON, "09:00"))  # register due 10:00
    assert tasks.sweep_overdue(at(MON, "09:59")).overdue == []
    assert tasks.sweep_overdue(at(MON, "10:01")).overdue == [case.code]
    assert tasks.sweep_overdue(at(MON, "10:30")).overdue == []
    # A new step starts a new clock: the flag is cleared, and the new deadline may be missed too.
    case = world.act(case, "register", "shift_leader", at(MON, "10:40"))  # dispatch due 11:40
    assert not case.overdue_flagged
    assert tasks.sweep_overdue(at(MON, "11:00")).overdue == []
    assert tasks.sweep_overdue(at(MON, "11:41")).overdue == [case.code]
    case.refresh_from_db()
    assert case.supervision_level == 2
    assert [e.data["step"] for e in supervisions(case)] == ["register", "dispatch"]
    assert [e.data["level"] for e in supervisions(case)] == [1, 2]


def test_an_approved_extension_moves_the_deadline_and_allows_a_new_flag(world) -> None:
    case = dispatched(world)
    case = world.act(case, "accept", "handler", at(MON, "09:50"))
    assert tasks.sweep_overdue(at(MON, "15:41")).overdue == [case.code]
    case = world.act(
        case, "request_extension", "handler", at(MON, "15:45"), note="需调运机械", extension_hours=8
    )
    case = world.act(case, "approve_extension", "dispatcher", at(MON, "15:50"))
    case.refresh_from_db()
    assert not case.overdue_flagged and case.deadline == at("2026-11-24", "15:40")
    assert tasks.sweep_overdue(at("2026-11-24", "15:39")).overdue == []
    assert tasks.sweep_overdue(at("2026-11-24", "15:41")).overdue == [case.code]


def test_paused_closed_and_clockless_cases_are_left_alone(world) -> None:
    deferred = dispatched(world)
    deferred = world.act(deferred, "accept", "handler", at(MON, "09:50"))
    deferred = world.act(deferred, "request_deferral", "handler", at(MON, "10:00"), note="待入冬后施工")
    deferred = world.act(deferred, "approve_deferral", "shift_leader", at(MON, "10:10"))
    assert deferred.paused_at is not None
    self_handled = world.report(at(MON, "09:00"), self_handled=True)
    closed = world.report(at(MON, "09:00"), self_handled=True)
    closed = world.act(closed, "approve_self_handling", "shift_leader", at(MON, "09:10"))
    report = tasks.sweep_overdue(at("2026-12-31", "12:00"))
    assert report.overdue == []
    for case in (deferred, self_handled, closed):
        case.refresh_from_db()
        assert not supervisions(case) and not case.overdue_flagged


def test_overdue_notifies_shift_leaders_and_the_step_owners(
    world, django_capture_on_commit_callbacks
) -> None:
    case = dispatched(world)  # lead unit: sanitation (环卫), handler "handler"
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_overdue(at(MON, "16:00"))
    received = Notification.objects.filter(case=case, kind="overdue")
    assert {n.recipient.username for n in received} == {"shift_leader", "handler"}
    text = received.first().text
    assert "处置环节" in text and "第 1 次督办" in text and "11月23日 15:40" in text


def test_the_80_percent_warning_goes_once_to_whoever_must_act(
    world, django_capture_on_commit_callbacks
) -> None:
    case = dispatched(world)  # 4 working hours from 09:40; 80 % = 3 h 12 min → 14:52
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.sweep_warnings(at(MON, "14:50")).warned == []
        assert tasks.sweep_warnings(at(MON, "14:53")).warned == [case.code]
        assert tasks.sweep_warnings(at(MON, "15:00")).warned == []
    [warning] = Notification.objects.filter(case=case, kind="warning")
    assert warning.recipient.username == "handler" and "即将超期" in warning.subject
    assert Reminder.objects.filter(case=case, step="handle").count() == 1
    # Past the deadline the case is red: the overdue sweep takes over, not the warning.
    assert tasks.sweep_warnings(at(MON, "15:41")).warned == []


def test_a_warning_is_due_again_after_an_extension(world) -> None:
    case = dispatched(world)
    case = world.act(case, "accept", "handler", at(MON, "09:50"))
    assert tasks.sweep_warnings(at(MON, "15:00")).warned == [case.code]
    case = world.act(
        case, "request_extension", "handler", at(MON, "15:10"), note="材料未到", extension_hours=4
    )
    case = world.act(case, "approve_extension", "dispatcher", at(MON, "15:20"))  # 8 h total → next day 09:40
    # 80 % of 8 h from 09:40 = 6 h 24 min of working time → Tuesday 08:04
    assert tasks.sweep_warnings(at("2026-11-24", "08:03")).warned == []
    assert tasks.sweep_warnings(at("2026-11-24", "08:05")).warned == [case.code]


def test_the_task_returns_counts(world) -> None:
    world.report(at(MON, "09:00"))
    assert tasks.flag_overdue.call_local() == {"overdue": 1, "warned": 0, "refused": 0}
    assert tasks.flag_overdue.call_local() == {"overdue": 0, "warned": 0, "refused": 0}


def twice_at_once(work: Callable[[], T]) -> list[T]:
    """What ``work`` returned in two threads, each on its own connection, let go together."""
    barrier = threading.Barrier(2)
    results: list[T] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            result = work()
            with lock:
                results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 2, "a thread failed: see its traceback above"
    return results


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_supervise_a_case_once(world) -> None:
    cases = [world.report(at(MON, "09:00")) for _ in range(20)]
    results = twice_at_once(lambda: tasks.sweep_overdue(at(MON, "12:00")).overdue)
    assert sorted(results[0] + results[1]) == sorted(c.code for c in cases)
    assert CaseEvent.objects.filter(action="supervise").count() == len(cases)


def test_the_command_runs_one_sweep(world) -> None:
    from io import StringIO

    from django.core.management import call_command

    case = world.report(at(MON, "09:00"))
    out = StringIO()
    call_command("flag_overdue", stdout=out)
    assert "超期督办 1 件" in out.getvalue() and case.code in out.getvalue()
    case.refresh_from_db()
    assert case.supervision_level == 1


# -- the warning's receipt ---------------------------------------------------------------------


def warned_unsent(world) -> tuple[Case, Reminder]:
    """A case warned about at 14:53 whose message task never ran (its on-commit hook was not
    executed: as if the queue had lost it)."""
    case = dispatched(world)
    assert tasks.sweep_warnings(at(MON, "14:53")).warned == [case.code]
    return case, Reminder.objects.get(case=case, kind="warning")


def test_a_sent_warning_leaves_a_receipt_and_goes_once(world, django_capture_on_commit_callbacks) -> None:
    case = dispatched(world)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.sweep_warnings(at(MON, "14:53"))
    reminder = Reminder.objects.get(case=case)
    assert reminder.delivered_at is not None
    assert tasks.deliver_reminder.call_local(reminder.pk) == 0  # a second run sends nothing
    assert Notification.objects.filter(case=case, kind="warning").count() == 1


def test_a_lost_warning_is_found_and_sent_once(world) -> None:
    case, reminder = warned_unsent(world)
    assert reminder.delivered_at is None
    assert not Notification.objects.filter(case=case, kind="warning").exists()
    now = reminder.sent_at
    # Found by a starting worker at once; by the minute sweep only once it is overdue by
    # REQUEUE_AFTER_MINUTES (the task may simply not have run yet).
    assert notify.undelivered_reminders(now) == [reminder.pk]
    assert notify.undelivered_reminders(now, older_than=tasks.REQUEUE_AFTER_MINUTES) == []
    later = now + dt.timedelta(minutes=tasks.REQUEUE_AFTER_MINUTES + 1)
    assert tasks.requeue_reminders(later) == 1  # huey's immediate mode: delivered here
    [warning] = Notification.objects.filter(case=case, kind="warning")
    assert warning.recipient.username == "handler"
    reminder.refresh_from_db()
    assert reminder.delivered_at is not None
    assert notify.undelivered_reminders(later) == [] and tasks.requeue_reminders(later) == 0
    assert tasks.deliver_reminder.call_local(reminder.pk) == 0
    assert Notification.objects.filter(case=case, kind="warning").count() == 1
    # A day later nothing is sent any more: the overdue sweep has taken over by then.
    assert notify.undelivered_reminders(now + dt.timedelta(hours=25)) == []


def test_an_outdated_warning_is_not_sent(world) -> None:
    case, reminder = warned_unsent(world)
    world.act(case, "accept", "handler", at(MON, "14:55"))
    world.act(case, "report_back", "handler", at(MON, "15:00"))  # the handling step is over
    assert tasks.deliver_reminder.call_local(reminder.pk) == 0
    assert not Notification.objects.filter(case=case, kind="warning").exists()
    reminder.refresh_from_db()
    assert reminder.delivered_at is not None  # settled: not found again
    assert notify.undelivered_reminders(reminder.sent_at) == []


def test_a_task_queued_before_receipts_names_the_case(world) -> None:
    case, reminder = warned_unsent(world)
    assert tasks.deliver_warning.call_local(case.pk) == 1
    assert tasks.deliver_warning.call_local(case.pk) == 0
    assert Notification.objects.filter(case=case, kind="warning").count() == 1
    reminder.refresh_from_db()
    assert reminder.delivered_at is not None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_send_one_message(world) -> None:
    # Transactions commit here, so the sweep's own task would run at once: the reminder is
    # recorded as the sweep records it, without its task.
    case = Case.objects.get(pk=dispatched(world).pk)
    reminder = Reminder.objects.create(
        case=case, kind="warning", step=case.step, started_at=case.step_started_at, deadline=case.deadline
    )
    assert sorted(twice_at_once(lambda: notify.deliver_reminder(reminder.pk))) == [0, 1]
    assert Notification.objects.filter(case=case, kind="warning").count() == 1
