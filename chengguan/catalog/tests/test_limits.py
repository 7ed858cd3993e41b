"""The time-limit choice rule, without the database."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengguan.catalog import limits
from chengguan.catalog.limits import LimitRow, choose_limit, parse_area_class, parse_hours, specificity
from chengguan.catalog.models import AreaClass, Step, WorkKind

H = Decimal


def test_vocabularies_match_the_model_choices() -> None:
    assert tuple(Step.values) == limits.STEPS
    assert tuple(AreaClass.values) == limits.AREA_CLASSES
    assert tuple(WorkKind.values) == limits.WORK_KINDS
    assert set(limits.STEP_LABELS.values()) == set(limits.STEPS)
    assert {str(label) for label in Step.labels} == set(limits.STEP_LABELS)


ROWS = [
    LimitRow("handle", "", "", H(16)),
    LimitRow("handle", "A", "", H(8)),
    LimitRow("handle", "", "engineering", H(80)),
    LimitRow("handle", "A", "engineering", H(40)),
    LimitRow("verify", "", "", H(1)),
]


@pytest.mark.parametrize(
    ("area", "kind", "expected"),
    [
        ("A", "engineering", H(40)),  # exact area + kind
        ("A", "ordinary", H(8)),  # area only
        ("B", "engineering", H(80)),  # kind only
        ("B", "ordinary", H(16)),  # generic
        ("", "", H(16)),  # nothing known about the case: generic
    ],
)
def test_most_specific_applicable_row_wins(area: str, kind: str, expected: Decimal) -> None:
    chosen = choose_limit(ROWS, "handle", area, kind)
    assert chosen is not None and chosen.hours == expected


def test_rows_naming_another_area_or_kind_do_not_apply() -> None:
    rows = [LimitRow("handle", "A", "ordinary", H(4))]
    assert choose_limit(rows, "handle", "B", "ordinary") is None
    assert choose_limit(rows, "handle", "A", "special") is None
    assert choose_limit(rows, "check", "A", "ordinary") is None
    assert choose_limit([], "handle") is None


def test_area_beats_kind() -> None:
    rows = [LimitRow("handle", "", "special", H(30)), LimitRow("handle", "C", "", H(50))]
    chosen = choose_limit(rows, "handle", "C", "special")
    assert chosen is not None and chosen.hours == H(50)


@pytest.mark.parametrize(
    ("text", "hours"),
    [("4", H("4.00")), ("2.5", H("2.50")), ("4工作时", H(4)), ("2工作日", H(16)), (" 6 小时 ", H(6))],
)
def test_parse_hours_accepts_what_clerks_write(text: str, hours: Decimal) -> None:
    assert parse_hours(text) == (hours, "")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("0", "大于 0"), ("-3", "不是时限"), ("abc", "不是时限"), ("1.234", "两位小数"), ("100000", "不能超过")],
)
def test_parse_hours_refuses_with_a_reason(text: str, fragment: str) -> None:
    value, message = parse_hours(text)
    assert value is None
    assert fragment in message


def test_parse_area_class() -> None:
    assert parse_area_class("") == ""
    assert parse_area_class("a") == "A"
    assert parse_area_class("B类（一般区）") == "B"
    assert parse_area_class("D") is None
    assert parse_area_class("AB") is None


# --- properties --------------------------------------------------------------------------

rows_strategy = st.lists(
    st.builds(
        LimitRow,
        step=st.sampled_from(["handle", "verify"]),
        area_class=st.sampled_from(["", "A", "B", "C"]),
        work_kind=st.sampled_from(["", "ordinary", "engineering", "special"]),
        hours=st.decimals(min_value=H("0.5"), max_value=H(200), places=1),
    ),
    max_size=12,
)
query = st.tuples(
    st.sampled_from(["A", "B", "C", ""]), st.sampled_from(["ordinary", "engineering", "special", ""])
)


@given(rows=rows_strategy, q=query, data=st.data())
def test_choice_does_not_depend_on_row_order(
    rows: list[LimitRow], q: tuple[str, str], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(rows))
    assert choose_limit(rows, "handle", *q) == choose_limit(shuffled, "handle", *q)


@given(rows=rows_strategy, q=query)
def test_the_most_specific_applicable_row_always_wins(rows: list[LimitRow], q: tuple[str, str]) -> None:
    area, kind = q
    chosen = choose_limit(rows, "handle", area, kind)
    applicable = [r for r in rows if limits.applies(r, "handle", area, kind)]
    if not applicable:
        assert chosen is None
        return
    assert chosen in applicable
    best = max(specificity(r) for r in applicable)
    assert specificity(chosen) == best
    # Among equally specific rows (only possible with duplicate keys) the strictest is taken.
    assert chosen.hours == min(r.hours for r in applicable if specificity(r) == best)


@given(rows=rows_strategy, q=query, hours=st.decimals(min_value=H(1), max_value=H(500), places=0))
def test_an_exact_row_overrides_everything_else(
    rows: list[LimitRow], q: tuple[str, str], hours: Decimal
) -> None:
    area, kind = q
    if not area or not kind:
        return
    exact = LimitRow("handle", area, kind, hours)
    others = [r for r in rows if (r.area_class, r.work_kind) != (area, kind)]
    assert choose_limit([*others, exact], "handle", area, kind) == exact
