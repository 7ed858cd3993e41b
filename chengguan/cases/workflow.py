"""The case workflow as a declarative transition table (after GB/T 30428 practice).

Nothing here touches the database. A transition names the action, the states it may start
from, the state it leads to, the posts (roles) allowed to take it, and the step whose clock
starts when it lands. The service layer asks :func:`plan` whether an actor may take an action
and gets back what to write; one event is appended per transition.

Main line: 上报 report → (public reports: 核实 verify on site) → 立案 register → 派遣 dispatch →
接收 accept → 处置 handle → 反馈 report back → 核查 check on site → 结案 close, or 返工 rework.
Side branches: 不予立案 reject, 作废 void (requested, approved), 重复 duplicate, 自行处置 fix at once
(reviewed), 回退 return and re-dispatch, 延期 extension, 挂账 deferral and resumption, 督办 supervision.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    REPORTED = "reported"  # 待受理：巡查上报或已核实，等待值班长立案
    VERIFYING = "verifying"  # 待核实：公众举报，等待巡查员到场核实
    SELF_HANDLED = "self_handled"  # 自行处置待审：巡查员已当场处置
    TO_DISPATCH = "to_dispatch"  # 待派遣：已立案
    VOID_REQUESTED = "void_requested"  # 作废待批
    DISPATCHED = "dispatched"  # 已派遣，待单位接收
    RETURNED = "returned"  # 单位回退，待派遣员重新派遣
    HANDLING = "handling"  # 处置中
    EXTENSION_REQUESTED = "extension_requested"  # 延期待批（单位继续处置）
    DEFERRAL_REQUESTED = "deferral_requested"  # 挂账待批
    DEFERRED = "deferred"  # 挂账
    HANDLED = "handled"  # 已反馈，待发核查
    CHECKING = "checking"  # 待核查：巡查员到场核查
    TO_CLOSE = "to_close"  # 核查通过，待结案
    CLOSED = "closed"  # 结案
    REJECTED = "rejected"  # 不予立案
    VOIDED = "voided"  # 作废
    DUPLICATE = "duplicate"  # 重复案件


STATUS_LABELS: dict[Status, str] = {
    Status.REPORTED: "待立案",
    Status.VERIFYING: "待核实",
    Status.SELF_HANDLED: "自行处置待审",
    Status.TO_DISPATCH: "待派遣",
    Status.VOID_REQUESTED: "作废待批",
    Status.DISPATCHED: "已派遣",
    Status.RETURNED: "已回退",
    Status.HANDLING: "处置中",
    Status.EXTENSION_REQUESTED: "延期待批",
    Status.DEFERRAL_REQUESTED: "挂账待批",
    Status.DEFERRED: "挂账",
    Status.HANDLED: "已反馈",
    Status.CHECKING: "待核查",
    Status.TO_CLOSE: "待结案",
    Status.CLOSED: "已结案",
    Status.REJECTED: "不予立案",
    Status.VOIDED: "已作废",
    Status.DUPLICATE: "重复案件",
}

FINAL = frozenset({Status.CLOSED, Status.REJECTED, Status.VOIDED, Status.DUPLICATE})
OPEN = frozenset(Status) - FINAL


class Role(StrEnum):
    """Posts of the standard; values match org.StaffRole."""

    INSPECTOR = "inspector"  # 监督员 / 巡查员
    OPERATOR = "operator"  # 受理员
    SHIFT_LEADER = "shift_leader"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    HANDLER = "handler"  # 处置单位人员
    LEADER = "leader"  # 领导（只读；督办经值班长）
    CITIZEN = "citizen"  # 市民（评价）
    SYSTEM = "system"  # 后台计时任务（超期督办）


class Step(StrEnum):
    """The clocked steps; values match catalog.Step."""

    VERIFY = "verify"
    REGISTER = "register"
    DISPATCH = "dispatch"
    HANDLE = "handle"
    CHECK = "check"


# Which step's clock runs while a case sits in a status (None: no clock).
STEP_OF_STATUS: dict[Status, Step | None] = {
    Status.REPORTED: Step.REGISTER,
    Status.VERIFYING: Step.VERIFY,
    Status.SELF_HANDLED: None,
    Status.TO_DISPATCH: Step.DISPATCH,
    Status.VOID_REQUESTED: None,
    Status.DISPATCHED: Step.HANDLE,
    Status.RETURNED: Step.DISPATCH,
    Status.HANDLING: Step.HANDLE,
    Status.EXTENSION_REQUESTED: Step.HANDLE,
    Status.DEFERRAL_REQUESTED: Step.HANDLE,
    Status.DEFERRED: None,  # the handling clock stops while deferred
    Status.HANDLED: Step.CHECK,
    Status.CHECKING: Step.CHECK,
    Status.TO_CLOSE: None,
    Status.CLOSED: None,
    Status.REJECTED: None,
    Status.VOIDED: None,
    Status.DUPLICATE: None,
}


class Clock(StrEnum):
    """What a transition does to the running step clock."""

    START = "start"  # a new step begins: fresh deadline from the catalogue
    KEEP = "keep"  # same step continues with the same deadline
    PAUSE = "pause"  # deferral: stop counting
    RESUME = "resume"  # deferral over: the paused time is added to the limit
    EXTEND = "extend"  # approved extension: the extra hours are added to the limit
    STOP = "stop"  # no clock any more


class Scope(StrEnum):
    """Whose case it must be for the actor to act."""

    ANY = "any"  # any holder of the role in the district
    LEAD_UNIT = "lead_unit"  # the actor's unit is the case's lead unit
    ASSIGNED_INSPECTOR = "assigned_inspector"  # the inspector the task was sent to, or one of its grid
    REPORTER = "reporter"  # the citizen who reported it


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    sources: frozenset[Status]
    target: Status | None  # None: stays in its status (督办, 评价)
    roles: frozenset[Role]
    clock: Clock
    scope: Scope = Scope.ANY
    needs_note: bool = False


def _t(
    action: str,
    label: str,
    sources: set[Status],
    target: Status | None,
    roles: set[Role],
    clock: Clock,
    scope: Scope = Scope.ANY,
    needs_note: bool = False,
) -> Transition:
    return Transition(action, label, frozenset(sources), target, frozenset(roles), clock, scope, needs_note)


S, R, C = Status, Role, Clock
OPEN_WORK = {
    S.DISPATCHED,
    S.HANDLING,
    S.EXTENSION_REQUESTED,
    S.DEFERRAL_REQUESTED,
    S.DEFERRED,
    S.HANDLED,
    S.CHECKING,
    S.RETURNED,
    S.TO_DISPATCH,
    S.REPORTED,
    S.VERIFYING,
}

TRANSITIONS: tuple[Transition, ...] = (
    _t("send_verify", "派发核实", {S.REPORTED}, S.VERIFYING, {R.OPERATOR}, C.START),
    _t("confirm", "核实属实", {S.VERIFYING}, S.REPORTED, {R.INSPECTOR}, C.START, Scope.ASSIGNED_INSPECTOR),
    _t(
        "deny", "核实不属实", {S.VERIFYING}, S.REJECTED, {R.INSPECTOR}, C.STOP, Scope.ASSIGNED_INSPECTOR, True
    ),
    _t("register", "立案", {S.REPORTED}, S.TO_DISPATCH, {R.SHIFT_LEADER}, C.START),
    _t("reject", "不予立案", {S.REPORTED}, S.REJECTED, {R.SHIFT_LEADER}, C.STOP, needs_note=True),
    _t(
        "mark_duplicate",
        "重复案件",
        {S.REPORTED, S.VERIFYING},
        S.DUPLICATE,
        {R.SHIFT_LEADER, R.OPERATOR},
        C.STOP,
    ),
    _t("approve_self_handling", "自行处置审核通过", {S.SELF_HANDLED}, S.CLOSED, {R.SHIFT_LEADER}, C.STOP),
    _t(
        "refuse_self_handling",
        "自行处置审核不通过",
        {S.SELF_HANDLED},
        S.REPORTED,
        {R.SHIFT_LEADER},
        C.START,
        needs_note=True,
    ),
    _t(
        "request_void",
        "申请作废",
        {S.TO_DISPATCH, S.RETURNED},
        S.VOID_REQUESTED,
        {R.DISPATCHER, R.OPERATOR},
        C.PAUSE,
        needs_note=True,
    ),
    _t("approve_void", "批准作废", {S.VOID_REQUESTED}, S.VOIDED, {R.SHIFT_LEADER}, C.STOP),
    _t(
        "deny_void",
        "驳回作废",
        {S.VOID_REQUESTED},
        S.TO_DISPATCH,
        {R.SHIFT_LEADER},
        C.RESUME,
        needs_note=True,
    ),
    _t("dispatch", "派遣", {S.TO_DISPATCH, S.RETURNED}, S.DISPATCHED, {R.DISPATCHER}, C.START),
    _t("accept", "接收", {S.DISPATCHED}, S.HANDLING, {R.HANDLER}, C.KEEP, Scope.LEAD_UNIT),
    _t("return", "回退", {S.DISPATCHED, S.HANDLING}, S.RETURNED, {R.HANDLER}, C.START, Scope.LEAD_UNIT, True),
    _t(
        "request_extension",
        "申请延期",
        {S.HANDLING},
        S.EXTENSION_REQUESTED,
        {R.HANDLER},
        C.KEEP,
        Scope.LEAD_UNIT,
        True,
    ),
    _t(
        "approve_extension",
        "批准延期",
        {S.EXTENSION_REQUESTED},
        S.HANDLING,
        {R.DISPATCHER, R.SHIFT_LEADER},
        C.EXTEND,
    ),
    _t(
        "deny_extension",
        "驳回延期",
        {S.EXTENSION_REQUESTED},
        S.HANDLING,
        {R.DISPATCHER, R.SHIFT_LEADER},
        C.KEEP,
        needs_note=True,
    ),
    _t(
        "request_deferral",
        "申请挂账",
        {S.HANDLING},
        S.DEFERRAL_REQUESTED,
        {R.HANDLER},
        C.KEEP,
        Scope.LEAD_UNIT,
        True,
    ),
    _t("approve_deferral", "批准挂账", {S.DEFERRAL_REQUESTED}, S.DEFERRED, {R.SHIFT_LEADER}, C.PAUSE),
    _t(
        "deny_deferral",
        "驳回挂账",
        {S.DEFERRAL_REQUESTED},
        S.HANDLING,
        {R.SHIFT_LEADER},
        C.KEEP,
        needs_note=True,
    ),
    _t("resume", "挂账恢复", {S.DEFERRED}, S.HANDLING, {R.SHIFT_LEADER, R.DISPATCHER}, C.RESUME),
    _t("report_back", "处置反馈", {S.HANDLING}, S.HANDLED, {R.HANDLER}, C.START, Scope.LEAD_UNIT),
    _t("send_check", "派发核查", {S.HANDLED}, S.CHECKING, {R.OPERATOR}, C.KEEP),
    _t("check_pass", "核查通过", {S.CHECKING}, S.TO_CLOSE, {R.INSPECTOR}, C.STOP, Scope.ASSIGNED_INSPECTOR),
    _t(
        "check_fail",
        "核查不通过（返工）",
        {S.CHECKING},
        S.HANDLING,
        {R.INSPECTOR},
        C.START,
        Scope.ASSIGNED_INSPECTOR,
        True,
    ),
    _t("close", "结案", {S.TO_CLOSE}, S.CLOSED, {R.SHIFT_LEADER}, C.STOP),
    _t(
        "supervise",
        "督办",
        set(OPEN_WORK),
        None,
        # A leader's 督办 reaches the case through the shift leader (or the 领导交办 channel):
        # leaders read everything and change nothing (the access policy, issue 8).
        {R.SHIFT_LEADER, R.SYSTEM},
        C.KEEP,
        needs_note=True,
    ),
    _t("rate", "评价", {S.CLOSED}, None, {R.CITIZEN}, C.KEEP, Scope.REPORTER),
)

BY_ACTION: dict[str, Transition] = {t.action: t for t in TRANSITIONS}


class WorkflowError(Exception):
    """A transition that may not be taken; the message is for the person who tried."""


@dataclass(frozen=True)
class Actor:
    """Who acts: their posts and, for scoped actions, the facts scope is checked against."""

    roles: frozenset[Role]
    unit_id: int | None = None
    is_assigned_inspector: bool = False
    is_reporter: bool = False


@dataclass(frozen=True)
class CaseFacts:
    status: Status
    lead_unit_id: int | None = None
    has_note: bool = False


def available(case: CaseFacts, actor: Actor) -> list[Transition]:
    """The actions this actor may take on this case now (for buttons on the page)."""
    result = []
    for transition in TRANSITIONS:
        try:
            check(transition.action, case, actor, probing=True)
        except WorkflowError:
            continue
        result.append(transition)
    return result


def check(action: str, case: CaseFacts, actor: Actor, *, probing: bool = False) -> Transition:
    """The transition for ``action`` if ``actor`` may take it on ``case``; else WorkflowError."""
    transition = BY_ACTION.get(action)
    if transition is None:
        raise WorkflowError(f"未知的操作“{action}”。")
    if case.status not in transition.sources:
        raise WorkflowError(f"案件当前状态为“{STATUS_LABELS[case.status]}”，不能执行“{transition.label}”。")
    if not (transition.roles & actor.roles):
        allowed = "、".join(sorted(ROLE_LABELS[r] for r in transition.roles))
        raise WorkflowError(f"“{transition.label}”只能由{allowed}执行。")
    if transition.scope is Scope.LEAD_UNIT and (actor.unit_id is None or actor.unit_id != case.lead_unit_id):
        raise WorkflowError(f"只有主办单位才能执行“{transition.label}”。")
    if transition.scope is Scope.ASSIGNED_INSPECTOR and not actor.is_assigned_inspector:
        raise WorkflowError(f"只有被派发任务的巡查员才能执行“{transition.label}”。")
    if transition.scope is Scope.REPORTER and not actor.is_reporter:
        raise WorkflowError("只有举报人才能评价该案件。")
    if transition.needs_note and not case.has_note and not probing:
        raise WorkflowError(f"“{transition.label}”必须填写说明。")
    return transition


ROLE_LABELS: dict[Role, str] = {
    Role.INSPECTOR: "巡查员",
    Role.OPERATOR: "受理员",
    Role.SHIFT_LEADER: "值班长",
    Role.DISPATCHER: "派遣员",
    Role.HANDLER: "处置单位",
    Role.LEADER: "领导",
    Role.CITIZEN: "市民",
    Role.SYSTEM: "系统",
}


def reachable(start: Status) -> set[Status]:
    """States reachable from ``start`` (used to prove every open case can still end)."""
    seen = {start}
    frontier = [start]
    while frontier:
        status = frontier.pop()
        for transition in TRANSITIONS:
            if status in transition.sources and transition.target and transition.target not in seen:
                seen.add(transition.target)
                frontier.append(transition.target)
    return seen
