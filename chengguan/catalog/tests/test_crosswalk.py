"""The 2013 → 2026 crosswalk: rules on small examples, and the shipped table."""

from __future__ import annotations

import pytest

from chengguan.catalog import shipped
from chengguan.catalog.crosswalk import (
    CODE_RULE,
    MANUAL,
    SAME_NAME,
    UNMATCHED,
    ManualMatch,
    NewEntry,
    OldEntry,
    build_crosswalk,
    crosswalk_csv,
    normalize_name,
)

NEW = [
    NewEntry("component", "01001", "供水井盖"),
    NewEntry("component", "01014", "园林井盖"),
    NewEntry("component", "01023", "不明井盖"),
    NewEntry("component", "02012", "路名牌"),
    NewEntry("component", "02013", "地名牌"),
    NewEntry("matter", "06001", "私搭乱建"),
    NewEntry("matter", "06010", "暴露垃圾"),
    NewEntry("matter", "06014", "道路遗撒（洒）"),
    NewEntry("matter", "06029", "露天烧烤"),
    NewEntry("matter", "09001", "无照经营游商"),
]


def old(kind: str, code: str, name: str) -> OldEntry:
    return OldEntry(kind, code[:2], "", code, name)


def one(entry: OldEntry, manual: list[ManualMatch] | None = None) -> tuple[str, str, str]:
    (row,) = build_crosswalk([entry], NEW, manual or [])
    return row.new_kind, row.new_code, row.match


def test_component_code_rule_with_renamed_item() -> None:
    assert one(old("component", "0101", "上水井盖")) == ("component", "01001", CODE_RULE)


def test_event_class_01_becomes_matter_class_06() -> None:
    assert one(old("event", "0101", "私搭乱建")) == ("matter", "06001", CODE_RULE)
    assert one(old("event", "0501", "无照经营游商")) == ("matter", "09001", CODE_RULE)


def test_reshuffled_minor_numbers_fall_back_to_the_name() -> None:
    assert one(old("event", "0102", "暴露垃圾")) == ("matter", "06010", SAME_NAME)
    assert one(old("event", "0112", "道路遗撒")) == ("matter", "06014", SAME_NAME)


def test_exact_namesake_beats_a_merely_similar_rule_target() -> None:
    # The rule gives 02013 地名牌 (similar); 02012 路名牌 is the real successor.
    assert one(old("component", "0213", "路名牌")) == ("component", "02012", SAME_NAME)


def test_false_friend_under_the_rule_code_is_refused() -> None:
    row = build_crosswalk([old("component", "0114", "无主井盖")], NEW)[0]
    assert row.match == UNMATCHED and row.new_code == ""
    assert "01014" in row.note  # says which code the rule suggested and why it was not taken


def test_manual_table_decides_and_may_declare_unmatched() -> None:
    manual = [
        ManualMatch("component", "0114", "component", "01023", "2026 版称不明井盖"),
        ManualMatch("event", "0199", "", "", "2026 版不设“其他”小类"),
    ]
    rows = build_crosswalk(
        [old("component", "0114", "无主井盖"), old("event", "0199", "其他市容环境问题")], NEW, manual
    )
    assert (rows[0].new_code, rows[0].match) == ("01023", MANUAL)
    assert (rows[1].new_code, rows[1].match, rows[1].note) == ("", UNMATCHED, "2026 版不设“其他”小类")


def test_name_moved_to_another_class_is_noted() -> None:
    (row,) = build_crosswalk([old("event", "0510", "露天烧烤")], NEW)
    assert (row.new_code, row.match) == ("06029", SAME_NAME)
    assert "06" in row.note


def test_bad_manual_table_is_refused() -> None:
    with pytest.raises(ValueError, match="不在 2026 目录中"):
        build_crosswalk(
            [old("component", "0114", "无主井盖")],
            NEW,
            [ManualMatch("component", "0114", "component", "09999", "")],
        )
    with pytest.raises(ValueError, match="不在 2013 目录中"):
        build_crosswalk([], NEW, [ManualMatch("component", "0999", "component", "01001", "")])


def test_normalize_name() -> None:
    assert normalize_name("道路遗撒（洒）") == "道路遗撒"
    assert normalize_name("道路积雪、结冰") == normalize_name("道路积雪结冰")


# --- the shipped table -----------------------------------------------------------------------


def test_shipped_crosswalk_is_what_the_rules_build() -> None:
    """Guards against hand edits: change crosswalk_manual.csv and run build-crosswalk."""
    built = crosswalk_csv(shipped.build_shipped_crosswalk())
    assert (shipped.DATA_DIR / shipped.CROSSWALK_FILE).read_text(encoding="utf-8") == built


def test_every_2013_code_is_in_the_shipped_crosswalk() -> None:
    olds, problems = shipped.read_old_catalog()
    rows, more = shipped.read_crosswalk()
    assert problems == more == []
    assert len(olds) == 139
    assert [(r.old.kind, r.old.code) for r in rows] == [(o.kind, o.code) for o in olds]
    by_code = {(r.old.kind, r.old.code): r for r in rows}
    assert (by_code[("component", "0101")].new_code, by_code[("component", "0101")].new_name) == (
        "01001",
        "供水井盖",
    )
    # Every 2013 event of class 01 that found a successor found it in matter class 06 … or
    # was placed elsewhere by hand with a reason.
    for row in rows:
        if row.old.kind == "event" and row.old.major_code == "01" and row.match in (CODE_RULE, SAME_NAME):
            assert row.new_kind == "matter" and row.new_code.startswith("06")
        if row.match == UNMATCHED:
            assert row.new_code == "" and row.note
    assert {r.match for r in rows} == {CODE_RULE, SAME_NAME, MANUAL, UNMATCHED}


def test_shipped_catalogue_has_the_known_counts_and_gaps() -> None:
    entries, problems = shipped.read_catalog()
    assert problems == []
    kinds = [e.kind for e in entries]
    assert (kinds.count("component"), kinds.count("matter"), len(entries)) == (153, 250, 403)
    codes = {e.code for e in entries}
    for gap in ["01016", "05001", "05004", "05005", "05006", "05007", "05008", "06031", "07005", "09007"]:
        assert gap not in codes
