"""The transition table itself: every forbidden move is refused with a reason."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengguan.cases.workflow import (
    BY_ACTION,
    FINAL,
    OPEN,
    STEP_OF_STATUS,
    TRANSITIONS,
    Actor,
    CaseFacts,
    Role,
    Scope,
    Status,
    WorkflowError,
    available,
    check,
    reachable,
)


def actor_for(transition, unit_id=7):
    return Actor(
        roles=transition.roles,
        unit_id=unit_id,
        is_assigned_inspector=True,
        is_reporter=True,
    )


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: t.action)
def test_every_transition_is_allowed_from_its_sources(transition) -> None:
    for status in transition.sources:
        assert (
            check(transition.action, CaseFacts(status, 7, has_note=True), actor_for(transition)) is transition
        )


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: t.action)
def test_every_transition_is_refused_from_every_other_status(transition) -> None:
    for status in set(Status) - transition.sources:
        with pytest.raises(WorkflowError, match="不能执行"):
            check(transition.action, CaseFacts(status, 7, has_note=True), actor_for(transition))


@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: t.action)
def test_every_transition_is_refused_to_every_other_role(transition) -> None:
    status = next(iter(transition.sources))
    for role in set(Role) - transition.roles:
        actor = Actor(roles=frozenset({role}), unit_id=7, is_assigned_inspector=True, is_reporter=True)
        with pytest.raises(WorkflowError, match="只能由"):
            check(transition.action, CaseFacts(status, 7, has_note=True), actor)


def test_unit_scope_and_inspector_scope_and_notes() -> None:
    accept = BY_ACTION["accept"]
    with pytest.raises(WorkflowError, match="主办单位"):
        check("accept", CaseFacts(Status.DISPATCHED, lead_unit_id=8), actor_for(accept, unit_id=7))
    verify = BY_ACTION["check_pass"]
    not_assigned = Actor(roles=verify.roles, is_assigned_inspector=False)
    with pytest.raises(WorkflowError, match="被派发任务的巡查员"):
        check("check_pass", CaseFacts(Status.CHECKING), not_assigned)
    with pytest.raises(WorkflowError, match="必须填写说明"):
        check("reject", CaseFacts(Status.REPORTED, has_note=False), actor_for(BY_ACTION["reject"]))
    with pytest.raises(WorkflowError, match="未知的操作"):
        check("teleport", CaseFacts(Status.REPORTED), actor_for(accept))


def test_every_open_status_can_still_end_and_final_ones_cannot_move() -> None:
    for status in OPEN:
        assert reachable(status) & FINAL, status
    for status in FINAL:
        moving = [t for t in TRANSITIONS if status in t.sources and t.target not in (None, status)]
        assert moving == [], status


def test_every_status_has_a_clock_entry_and_scoped_transitions_name_their_scope() -> None:
    assert set(STEP_OF_STATUS) == set(Status)
    assert {t.action for t in TRANSITIONS if t.scope is Scope.LEAD_UNIT} >= {
        "accept",
        "return",
        "report_back",
    }


@given(st.sampled_from(list(Status)), st.frozensets(st.sampled_from(list(Role)), max_size=3), st.booleans())
def test_available_lists_exactly_the_actions_check_allows(status, roles, assigned) -> None:
    actor = Actor(roles=roles, unit_id=1, is_assigned_inspector=assigned)
    case = CaseFacts(status, lead_unit_id=1, has_note=True)
    offered = {t.action for t in available(case, actor)}
    for transition in TRANSITIONS:
        try:
            check(transition.action, case, actor)
            allowed = True
        except WorkflowError:
            allowed = False
        assert (transition.action in offered) == allowed
