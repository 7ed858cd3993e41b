"""The action forms drawn under a case: one per transition ``workflow.available`` offers."""

from __future__ import annotations

from dataclasses import dataclass, field

from chengguan.cases import selectors
from chengguan.cases.forms import TransitionForm
from chengguan.cases.models import Case
from chengguan.cases.selectors import Viewer
from chengguan.cases.workflow import Transition
from chengguan.org.models import OrgUnit, Staff
from chengguan.security import policy

# Actions that end or refuse something are drawn in a warning colour.
CAUTION = frozenset(
    {
        "deny",
        "reject",
        "mark_duplicate",
        "refuse_self_handling",
        "request_void",
        "approve_void",
        "return",
        "check_fail",
        "deny_extension",
        "deny_deferral",
        "deny_void",
        "supervise",
    }
)


@dataclass
class Choices:
    """Option lists shared by every form on one page (fetched once, only if needed)."""

    units: list[OrgUnit] | None = None
    inspectors: dict[int | None, list[Staff]] = field(default_factory=dict)

    def units_list(self) -> list[OrgUnit]:
        if self.units is None:
            self.units = selectors.dispatch_units()
        return self.units

    def inspectors_for(self, case: Case) -> list[Staff]:
        key = case.territory_id
        if key not in self.inspectors:
            self.inspectors[key] = selectors.inspectors_for(case)
        return self.inspectors[key]


@dataclass
class ActionForm:
    transition: Transition
    form: TransitionForm

    @property
    def caution(self) -> bool:
        return self.transition.action in CAUTION

    @property
    def simple(self) -> bool:
        """A one-click action: no inputs besides the hidden ones, the note is optional."""
        return (
            not self.form.extra_fields and "photos" not in self.form.fields and not self.transition.needs_note
        )


def action_forms(
    viewer: Viewer,
    case: Case,
    *,
    choices: Choices | None = None,
    bound: TransitionForm | None = None,
) -> list[ActionForm]:
    if policy.read_only(policy.post_of(viewer.who.user)):
        # The workflow lets a leader supervise (督办), but the leader's post reads only.
        return []
    choices = choices or Choices()
    result = []
    for transition in selectors.actions_for(viewer, case):
        if bound is not None and bound.transition.action == transition.action:
            result.append(ActionForm(transition, bound))
            continue
        result.append(ActionForm(transition, make_form(transition, case, choices)))
    return result


def make_form(
    transition: Transition, case: Case, choices: Choices, data: object = None, files: object = None
) -> TransitionForm:
    kwargs: dict[str, object] = {}
    if transition.action in {"send_verify", "send_check"}:
        kwargs["inspectors"] = choices.inspectors_for(case)
    if transition.action == "dispatch":
        kwargs["units"] = choices.units_list()
    return TransitionForm(data, files, transition=transition, case=case, **kwargs)  # type: ignore[arg-type]
