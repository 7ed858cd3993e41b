"""The three-way merge that protects local edits, and the scoped sample defaults."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from chengguan.catalog.defaults import (
    LimitSample,
    Scope,
    SettingsRow,
    duplicate_scopes,
    resolve_limits,
    resolve_settings,
)
from chengguan.catalog.merge import ABSENT, merge

# --- merge -------------------------------------------------------------------------------


def test_untouched_value_follows_the_new_sample() -> None:
    result = merge({"tier": "routine"}, {"tier": "routine"}, {"tier": "strict"})
    assert result.changes == {"tier": "strict"}
    assert not result.kept


def test_local_edit_is_kept_and_reported() -> None:
    result = merge({"tier": "zero_tolerance"}, {"tier": "routine"}, {"tier": "strict"})
    assert result.changes == {}
    assert result.kept == {"tier"}


def test_reset_takes_the_sample_over_an_edit() -> None:
    result = merge({"tier": "zero_tolerance"}, {"tier": "routine"}, {"tier": "strict"}, reset=True)
    assert result.changes == {"tier": "strict"}


def test_deleted_row_stays_deleted_and_new_sample_rows_arrive() -> None:
    base = {"handle||": ["8.00", "x"]}
    shipped = {"handle||": ["8.00", "x"], "check||": ["2.00", "y"]}
    result = merge({}, base, shipped)
    assert result.changes == {"check||": ["2.00", "y"]}
    assert result.kept == {"handle||"}


def test_bureau_rows_outside_the_sample_are_never_touched() -> None:
    result = merge({"handle|A|": ["3.00", "本局"]}, {}, {"handle||": ["8.00", "x"]})
    assert result.changes == {"handle||": ["8.00", "x"]}
    assert "handle|A|" not in result.kept


values = st.one_of(st.just(ABSENT), st.sampled_from(["a", "b", "c"]))
keys = st.sampled_from(["k1", "k2", "k3", "k4"])


def _absent_free(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if v is not ABSENT}


@given(
    current=st.dictionaries(keys, values),
    base=st.dictionaries(keys, values),
    shipped=st.dictionaries(keys, st.sampled_from(["a", "b", "c"])),
    reset=st.booleans(),
)
def test_merge_properties(current: dict, base: dict, shipped: dict, reset: bool) -> None:
    current, base = _absent_free(current), _absent_free(base)
    result = merge(current, base, shipped, reset=reset)
    for key, new in shipped.items():
        now = current.get(key, ABSENT)
        edited = now != base.get(key, ABSENT)
        if reset or not edited:
            # After applying, the row shows the sample value.
            assert result.changes.get(key, now) == new
        else:
            assert key not in result.changes
    # Keys the sample does not mention are never written.
    assert set(result.changes) <= set(shipped)
    # Applying the result and recording the sample as the new base makes a re-run a no-op.
    after = {**current, **result.changes}
    again = merge(after, shipped, shipped, reset=False)
    assert again.changes == {}


# --- scoped defaults -----------------------------------------------------------------------

SETTINGS = [
    SettingsRow(Scope(), {"assessment_tier": "routine", "public": True}, 2),
    SettingsRow(Scope("component", ""), {"public": False}, 3),
    SettingsRow(Scope("", "06"), {"domain": "sanitation"}, 4),
    SettingsRow(Scope("matter", "06"), {"disposition_mode": "management"}, 5),
    SettingsRow(Scope("", "06001"), {"domain": "planning"}, 6),
    SettingsRow(Scope("matter", "06001"), {"assessment_tier": "zero_tolerance"}, 7),
]


def test_settings_cascade_field_by_field() -> None:
    assert resolve_settings(SETTINGS, "matter", "06001") == {
        "assessment_tier": "zero_tolerance",
        "public": True,
        "domain": "planning",
        "disposition_mode": "management",
    }
    assert resolve_settings(SETTINGS, "matter", "06010") == {
        "assessment_tier": "routine",
        "public": True,
        "domain": "sanitation",
        "disposition_mode": "management",
    }
    assert resolve_settings(SETTINGS, "component", "01001") == {"assessment_tier": "routine", "public": False}


@given(st.permutations(SETTINGS))
def test_settings_do_not_depend_on_file_order(rows: list[SettingsRow]) -> None:
    for kind, code in [
        ("matter", "06001"),
        ("matter", "06010"),
        ("component", "01001"),
        ("component", "06001"),
    ]:
        assert resolve_settings(rows, kind, code) == resolve_settings(SETTINGS, kind, code)


def test_duplicate_scopes_are_found() -> None:
    rows = [*SETTINGS, SettingsRow(Scope("", "06"), {"domain": "greening"}, 9)]
    assert duplicate_scopes(rows) == [(9, Scope("", "06"))]


def _limit(scope: Scope, step: str, area: str, kind: str, hours: int) -> LimitSample:
    return LimitSample(scope, step, area, kind, Decimal(hours))


def test_a_more_specific_scope_replaces_the_whole_step() -> None:
    rows = [
        _limit(Scope(), "verify", "", "", 1),
        _limit(Scope(), "handle", "", "", 16),
        _limit(Scope(), "handle", "A", "ordinary", 8),
        _limit(Scope("matter", "06"), "handle", "", "", 8),
        _limit(Scope("matter", "06010"), "handle", "A", "ordinary", 4),
        _limit(Scope("matter", "06010"), "handle", "", "", 8),
    ]
    mine = {(r.step, r.area_class, r.work_kind, r.hours) for r in resolve_limits(rows, "matter", "06010")}
    assert mine == {("verify", "", "", 1), ("handle", "A", "ordinary", 4), ("handle", "", "", 8)}
    other = {(r.step, r.area_class, r.work_kind, r.hours) for r in resolve_limits(rows, "matter", "06020")}
    assert other == {("verify", "", "", 1), ("handle", "", "", 8)}
    component = resolve_limits(rows, "component", "06010")
    assert {r.hours for r in component if r.step == "handle"} == {16, 8}


def test_scope_matching_and_rank() -> None:
    assert Scope("", "01").matches("component", "01001")
    assert Scope("", "01").matches("matter", "01001")
    assert not Scope("matter", "01").matches("component", "01001")
    assert not Scope("", "06001").matches("matter", "06002")
    assert (
        Scope("matter", "").rank < Scope("", "06").rank < Scope("matter", "06").rank < Scope("", "06001").rank
    )
