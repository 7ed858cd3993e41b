"""Cases through the domain service: main line, every side branch, refusals, history."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chengguan.cases import services
from chengguan.cases.models import AppendOnlyError, Case, CaseEvent, CitizenContact
from chengguan.cases.tests.conftest import at
from chengguan.cases.workflow import Status, WorkflowError

MON = "2026-11-23"  # a Monday with no holiday


def actions(case: Case) -> list[str]:
    return list(case.events.order_by("seq").values_list("action", flat=True))


def test_main_line_with_one_rework(world) -> None:
    case = world.report(at(MON, "09:00"))
    assert case.code.startswith("20261123") and case.status == Status.REPORTED
    assert case.deadline == at(MON, "10:00")  # register within 1 working hour
    case = world.act(case, "register", "shift_leader", at(MON, "09:30"))
    assert case.status == Status.TO_DISPATCH and case.deadline == at(MON, "10:30")
    case = world.act(case, "dispatch", "dispatcher", at(MON, "09:40"))
    assert case.lead_unit == world.sanitation and "全区默认规则" in case.routing_note
    # 4 working hours from 09:40: 2h20 before lunch, 1h40 after 14:00
    assert case.deadline == at(MON, "15:40") and case.handle_deadline == at(MON, "15:40")
    case = world.act(case, "accept", "handler", at(MON, "09:50"))
    case = world.act(case, "report_back", "handler", at(MON, "11:00"))
    assert case.status == Status.HANDLED and case.handled_on_time is True
    assert case.handled_at == at(MON, "11:00")
    case = world.act(case, "send_check", "operator", at(MON, "11:05"), inspector=world.staff["inspector"])
    with pytest.raises(WorkflowError, match="必须填写说明"):
        world.act(case, "check_fail", "inspector", at(MON, "11:30"))
    case = world.act(case, "check_fail", "inspector", at(MON, "11:30"), note="垃圾仍未清运")
    assert case.status == Status.HANDLING and case.rework_count == 1
    case = world.act(case, "report_back", "handler", at(MON, "14:30"))
    case = world.act(case, "send_check", "operator", at(MON, "14:35"), inspector=world.staff["inspector"])
    case = world.act(case, "check_pass", "inspector", at(MON, "15:00"))
    case = world.act(case, "close", "shift_leader", at(MON, "15:10"))
    assert case.status == Status.CLOSED and case.closed_at == at(MON, "15:10") and case.deadline is None
    assert actions(case) == [
        "report",
        "register",
        "dispatch",
        "accept",
        "report_back",
        "send_check",
        "check_fail",
        "report_back",
        "send_check",
        "check_pass",
        "close",
    ]
    seqs = list(case.events.values_list("seq", flat=True))
    assert seqs == list(range(1, 12))
    rework = case.events.get(action="check_fail")
    assert (
        rework.from_status == "checking" and rework.to_status == "handling" and rework.note == "垃圾仍未清运"
    )


def test_public_report_is_verified_then_rated_by_the_citizen(world) -> None:
    case = world.report(
        at(MON, "08:30"),
        channel="web",
        reporter_staff=None,
        reporter_user=None,
        citizen=services.CitizenInfo(name="张女士", phone="13900000000"),
    )
    token = CitizenContact.objects.get(case=case).follow_token
    case = world.act(case, "send_verify", "operator", at(MON, "08:40"), inspector=world.staff["inspector2"])
    assert case.status == Status.VERIFYING and case.deadline == at(MON, "10:40")
    with pytest.raises(WorkflowError, match="被派发任务的巡查员"):
        world.act(case, "confirm", "inspector", at(MON, "09:00"))
    case = world.act(case, "confirm", "inspector2", at(MON, "09:10"))
    assert case.status == Status.REPORTED
    for action, who in (
        ("register", "shift_leader"),
        ("dispatch", "dispatcher"),
        ("accept", "handler"),
        ("report_back", "handler"),
    ):
        case = world.act(case, action, who, at(MON, "10:00"))
    case = world.act(case, "send_check", "operator", at(MON, "10:05"), inspector=world.staff["inspector2"])
    case = world.act(case, "check_pass", "inspector2", at(MON, "10:30"))
    case = world.act(case, "close", "shift_leader", at(MON, "10:40"))
    with pytest.raises(WorkflowError, match="举报人"):
        world.act(case, "rate", None, at(MON, "11:00"), satisfaction=5, citizen_token="wrong-token")
    with pytest.raises(services.CaseError, match="1 到 5"):
        world.act(case, "rate", None, at(MON, "11:00"), satisfaction=9, citizen_token=token)
    case = world.act(case, "rate", None, at(MON, "11:00"), satisfaction=4, citizen_token=token)
    assert case.satisfaction == 4 and case.status == Status.CLOSED
    with pytest.raises(services.CaseError, match="不能重复评价"):
        world.act(case, "rate", None, at(MON, "11:05"), satisfaction=1, citizen_token=token)
    assert Case.objects.get(pk=case.pk).satisfaction == 4
    assert case.events.last().actor_name == "举报人"


def test_verification_denied_rejects(world) -> None:
    case = world.report(at(MON, "08:30"), channel="hotline", reporter_staff=None, reporter_user=None)
    case = world.act(case, "send_verify", "operator", at(MON, "08:40"), inspector=world.staff["inspector"])
    case = world.act(case, "deny", "inspector", at(MON, "09:00"), note="现场无此问题")
    assert case.status == Status.REJECTED and case.deadline is None


def test_reject_needs_a_reason_and_duplicate_names_the_original(world) -> None:
    first = world.report(at(MON, "09:00"))
    second = world.report(at(MON, "09:05"))
    with pytest.raises(WorkflowError, match="必须填写说明"):
        world.act(second, "reject", "shift_leader", at(MON, "09:10"))
    with pytest.raises(services.CaseError, match="原案件"):
        world.act(second, "mark_duplicate", "shift_leader", at(MON, "09:10"))
    second = world.act(second, "mark_duplicate", "shift_leader", at(MON, "09:10"), duplicate_of=first)
    assert second.status == Status.DUPLICATE and second.duplicate_of == first
    first = world.act(first, "reject", "shift_leader", at(MON, "09:20"), note="不属于城管职责")
    assert first.status == Status.REJECTED


def test_void_is_requested_then_approved_or_denied(world) -> None:
    case = world.act(world.report(at(MON, "09:00")), "register", "shift_leader", at(MON, "09:10"))
    case = world.act(case, "request_void", "dispatcher", at(MON, "09:20"), note="误报")
    assert case.status == Status.VOID_REQUESTED and case.paused_at == at(MON, "09:20")
    case = world.act(case, "deny_void", "shift_leader", at(MON, "10:20"), note="问题属实")
    assert case.status == Status.TO_DISPATCH
    assert case.deadline == at(MON, "11:10")  # 1 hour paused was added to the dispatch limit
    case = world.act(case, "request_void", "dispatcher", at(MON, "10:30"), note="重复上报")
    case = world.act(case, "approve_void", "shift_leader", at(MON, "10:40"))
    assert case.status == Status.VOIDED


def test_inspector_fixes_on_the_spot_and_the_shift_leader_reviews(world) -> None:
    case = world.report(at(MON, "09:00"), self_handled=True)
    assert case.status == Status.SELF_HANDLED and case.deadline is None
    case = world.act(case, "approve_self_handling", "shift_leader", at(MON, "09:30"))
    assert case.status == Status.CLOSED
    other = world.report(at(MON, "09:00"), self_handled=True)
    other = world.act(other, "refuse_self_handling", "shift_leader", at(MON, "09:30"), note="需专业单位处置")
    assert other.status == Status.REPORTED


def dispatched(world, when="09:00"):
    case = world.act(world.report(at(MON, when)), "register", "shift_leader", at(MON, when))
    return world.act(case, "dispatch", "dispatcher", at(MON, when))


def test_return_and_redispatch_to_another_unit(world) -> None:
    case = dispatched(world)
    with pytest.raises(WorkflowError, match="主办单位"):
        world.act(case, "return", "other_handler", at(MON, "09:30"), note="非我单位职责")
    case = world.act(case, "return", "handler", at(MON, "09:30"), note="应由市政处置")
    assert case.status == Status.RETURNED and case.return_count == 1
    case = world.act(
        case,
        "dispatch",
        "dispatcher",
        at(MON, "09:40"),
        lead_unit=world.municipal,
        co_handlers=[world.sanitation],
    )
    assert case.lead_unit == world.municipal and case.routing_note == "派遣员手动指定"
    assert list(case.co_handlers.all()) == [world.sanitation]
    case = world.act(case, "accept", "other_handler", at(MON, "09:50"))
    assert case.status == Status.HANDLING


def test_extension_approved_moves_the_deadline_and_denied_does_not(world) -> None:
    case = world.act(dispatched(world), "accept", "handler", at(MON, "09:10"))
    assert case.deadline == at(MON, "15:00")
    with pytest.raises(services.CaseError, match="工作时数"):
        world.act(case, "request_extension", "handler", at(MON, "10:00"), note="需更换设备")
    case = world.act(
        case, "request_extension", "handler", at(MON, "10:00"), note="需更换设备", extension_hours=Decimal(8)
    )
    case = world.act(case, "approve_extension", "dispatcher", at(MON, "10:30"))
    assert case.status == Status.HANDLING and case.extension_count == 1
    assert case.deadline == at("2026-11-24", "15:00")  # one working day later
    case = world.act(
        case, "request_extension", "handler", at(MON, "11:00"), note="再延", extension_hours=Decimal(4)
    )
    case = world.act(case, "deny_extension", "shift_leader", at(MON, "11:10"), note="不符合延期条件")
    assert case.deadline == at("2026-11-24", "15:00") and case.extension_count == 1
    event = case.events.get(action="approve_extension")
    assert event.deadline_before == at(MON, "15:00") and event.deadline_after == at("2026-11-24", "15:00")


def test_deferral_stops_the_clock_and_resumption_adds_the_time(world) -> None:
    case = world.act(dispatched(world), "accept", "handler", at(MON, "09:10"))
    case = world.act(case, "request_deferral", "handler", at(MON, "09:20"), note="需待冬季后施工")
    case = world.act(case, "deny_deferral", "shift_leader", at(MON, "09:25"), note="可立即处置")
    assert case.status == Status.HANDLING
    case = world.act(case, "request_deferral", "handler", at(MON, "09:30"), note="需待冬季后施工")
    case = world.act(case, "approve_deferral", "shift_leader", at(MON, "10:00"))
    assert case.status == Status.DEFERRED and case.paused_at == at(MON, "10:00")
    case = world.act(case, "resume", "shift_leader", at("2026-11-24", "10:00"))
    # deferred for 8 working hours: the 15:00 deadline moves by a working day
    assert case.status == Status.HANDLING and case.deadline == at("2026-11-24", "15:00")
    assert case.step_extra_hours == Decimal(8)


def test_supervision_escalates_and_is_recorded(world) -> None:
    case = dispatched(world)
    with pytest.raises(WorkflowError, match="必须填写说明"):
        world.act(case, "supervise", "shift_leader", at(MON, "16:00"))
    with pytest.raises(WorkflowError):  # leaders read and change nothing
        world.act(case, "supervise", "leader", at(MON, "16:00"), note="请加快处置")
    case = world.act(case, "supervise", "shift_leader", at(MON, "16:00"), note="领导批示：请加快处置")
    case = world.act(case, "supervise", None, at(MON, "17:00"), note="超期自动督办")
    assert case.supervision_level == 2 and case.status == Status.DISPATCHED
    assert case.events.last().actor_name == "系统"


def test_forbidden_moves_change_nothing(world) -> None:
    case = world.report(at(MON, "09:00"))
    before = (Case.objects.get(pk=case.pk).version, CaseEvent.objects.count())
    with pytest.raises(WorkflowError, match="值班长"):
        world.act(case, "register", "inspector", at(MON, "09:10"))
    with pytest.raises(WorkflowError, match="不能执行"):
        world.act(case, "close", "shift_leader", at(MON, "09:10"))
    with pytest.raises(WorkflowError, match="不能执行"):
        world.act(case, "accept", "handler", at(MON, "09:10"))
    case = world.act(case, "register", "shift_leader", at(MON, "09:10"), expected_version=1)
    with pytest.raises(services.StaleCase, match="请刷新"):
        world.act(case, "request_void", "dispatcher", at(MON, "09:20"), note="x", expected_version=1)
    assert Case.objects.get(pk=case.pk).status == Status.TO_DISPATCH
    assert CaseEvent.objects.count() == before[1] + 1


def test_history_is_append_only(world) -> None:
    case = world.report(at(MON, "09:00"))
    event = case.events.get()
    event.note = "篡改"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    assert case.events.get().note == ""


def test_bad_reports_are_refused_with_the_field(world) -> None:
    with pytest.raises(services.CaseError) as error:
        world.report(at(MON, "09:00"), description="  ")
    assert error.value.field == "description"
    with pytest.raises(services.CaseError) as error:
        world.report(at(MON, "09:00"), lat=41.0, lon=None)
    assert error.value.field == "lat"
    with pytest.raises(services.CaseError) as error:
        world.report(at(MON, "09:00"), address="", lat=None, lon=None)
    assert error.value.field == "address"
    assert Case.objects.count() == 0


def test_urgent_cases_run_round_the_clock(world) -> None:
    case = world.report(at("2026-11-28", "22:00"), urgency="urgent")  # a Saturday night
    assert case.round_the_clock and case.deadline == at("2026-11-28", "23:00")
