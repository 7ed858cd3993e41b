"""The plain rules behind the import, without a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chengguan.org.rules import (
    UnitRecord,
    UnitSchema,
    check_units,
    find_cycles,
    normalize_mobile,
    parse_bool,
    parse_choice,
    split_list,
    table_format,
    valid_phone,
)

SCHEMA = UnitSchema(
    kinds=[
        ("bureau", "局"),
        ("department", "部门"),
        ("subdistrict", "街道"),
        ("town", "镇"),
        ("brigade", "执法中队"),
    ],
    territorial=frozenset({"subdistrict", "town"}),
    needs_territory=frozenset({"brigade"}),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("是", True),
        ("否", False),
        ("1", True),
        ("0", False),
        ("TRUE", True),
        ("false", False),
        ("也许", None),
    ],
)
def test_parse_bool(text, expected):
    assert parse_bool(text) is expected


def test_parse_choice_accepts_label_or_code():
    assert parse_choice("执法中队", SCHEMA.kinds) == "brigade"
    assert parse_choice("Brigade", SCHEMA.kinds) == "brigade"
    assert parse_choice("中队", SCHEMA.kinds) is None


def test_split_list_accepts_the_separators_clerks_type():
    assert split_list("市容环卫、规划,绿化，市政;环保；物业 ") == [
        "市容环卫",
        "规划",
        "绿化",
        "市政",
        "环保",
        "物业",
    ]
    assert split_list("") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13904761234", "13904761234"),
        ("139-0476-1234", "13904761234"),
        ("+86 139 0476 1234", "13904761234"),
        ("8613904761234", "13904761234"),
        ("12904761234", None),
        ("1390476123", None),
        ("0476-8351201", None),
    ],
)
def test_normalize_mobile(text, expected):
    assert normalize_mobile(text) == expected


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("0476-8351201", True),
        ("(0476)8351201", True),
        ("0476-8330001转8001", True),
        ("12345", True),
        ("13904761234、0476-8351201", True),
        ("请拨总机", False),
        ("0476-", False),
        ("0476-8351201-8001", True),
        ("0476-8351201 ext. 8001", True),
        ("12", False),
        ("0476-8351201、", False),
    ],
)
def test_valid_phone(text, ok):
    assert valid_phone(text) is ok


def test_table_format():
    assert table_format("单位.CSV") == "csv"
    assert table_format("units.xlsx") == "xlsx"
    assert table_format("units.xls") is None


def _has_cycle_through(node: str, parents: dict[str, str | None]) -> bool:
    seen: set[str] = set()
    current = parents.get(node)
    while current is not None and current in parents and current not in seen:
        if current == node:
            return True
        seen.add(current)
        current = parents.get(current)
    return False


@given(st.dictionaries(st.sampled_from("ABCDEFGH"), st.none() | st.sampled_from("ABCDEFGHX")))
def test_find_cycles_finds_exactly_the_nodes_on_cycles(parents):
    cycles = find_cycles(parents)

    on_cycles = [code for cycle in cycles for code in cycle]
    assert len(on_cycles) == len(set(on_cycles))  # each cycle reported once
    assert set(on_cycles) == {code for code in parents if _has_cycle_through(code, parents)}
    for cycle in cycles:
        assert cycle[0] == min(cycle)
        for child, parent in zip(cycle, [*cycle[1:], cycle[0]], strict=True):
            assert parents[child] == parent


def _row(code: str, parent: str | None) -> dict[str, str]:
    return {"单位编码": code, "名称": f"单位{code}", "类型": "部门", "上级单位编码": parent or ""}


@st.composite
def forests(draw) -> list[tuple[str, str | None]]:
    """A random org tree (or several), as (code, parent code) in a random order."""
    size = draw(st.integers(min_value=1, max_value=12))
    codes = [f"U{i:02d}" for i in range(size)]
    # Each unit's parent is an earlier unit or none, so the result has no cycle.
    edges = [
        (code, draw(st.none() | st.sampled_from(codes[:i])) if i else None) for i, code in enumerate(codes)
    ]
    return draw(st.permutations(edges))


@given(forests())
def test_any_row_order_gives_the_same_records(edges):
    ordered = sorted(edges)
    shuffled = check_units(
        [(line, _row(code, parent)) for line, (code, parent) in enumerate(edges, start=2)],
        existing={},
        schema=SCHEMA,
        domain_names={},
    )
    baseline = check_units(
        [(line, _row(code, parent)) for line, (code, parent) in enumerate(ordered, start=2)],
        existing={},
        schema=SCHEMA,
        domain_names={},
    )

    assert shuffled.errors == baseline.errors == []
    assert shuffled.records == baseline.records
    assert {code: record.parent for code, record in shuffled.records.items()} == dict(edges)


def test_a_cycle_with_stored_units_is_found():
    existing = {
        "A": UnitRecord(code="A", name="A", kind="department", parent=None),
        "B": UnitRecord(code="B", name="B", kind="department", parent="A"),
    }

    checked = check_units([(2, _row("A", "B"))], existing=existing, schema=SCHEMA, domain_names={})

    assert [(e.row, e.field) for e in checked.errors] == [(2, "上级单位编码")]
    assert "A → B → A" in checked.errors[0].message
