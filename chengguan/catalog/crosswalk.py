"""Crosswalk from GB/T 30428.2-2013 codes to GB/T 47678.5-2026 codes, in plain Python.

Running systems and legacy case data still carry the 2013 codes, so every 2013 code gets a
row: matched to a 2026 category, or kept and flagged as unmatched. The rules, in order:

1. **manual** — a row of the shipped manual table decides (it may also declare a code
   deliberately unmatched, with the reason), because some renamings no rule can see.
2. **code rule** — components went from 4 to 5 digits (``0101`` → ``01001``); the 2013 event
   classes 01/02/03/05 became matter classes 06/07/08/09 (``0101`` → ``06001``). The rule's
   target is taken at once when its name is the same (brackets and punctuation ignored).
3. **same name** — otherwise a 2026 category of the same kind with the same name, preferring
   the class the code rule points to; minor numbers were reshuffled, so most names moved.
4. **code rule** with a changed name — otherwise the rule's target when its name is close
   (see ``NAME_SIMILARITY``): ``0101 上水井盖`` → ``01001 供水井盖``. Without that check
   2013 ``0114 无主井盖`` would land on 2026 ``01014 园林井盖``.
5. otherwise **unmatched**.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

OLD_COMPONENT = "component"
OLD_EVENT = "event"
NEW_COMPONENT = "component"
NEW_MATTER = "matter"

CODE_RULE = "code_rule"
SAME_NAME = "same_name"
MANUAL = "manual"
UNMATCHED = "unmatched"
MATCH_METHODS = (CODE_RULE, SAME_NAME, MANUAL, UNMATCHED)

# 2013 event class → 2026 matter class, as stated in the shared data's SOURCES.md. Class 04
# 突发事件 has no successor class in 2026.
EVENT_CLASS_MAP = {"01": "06", "02": "07", "03": "08", "05": "09"}

# Share of characters (difflib ratio) two names must have in common for the code rule to be
# trusted. 上水井盖/供水井盖 and 通讯井盖/通信井盖 score 0.75; the false friends the
# reshuffled numbers produce (无主井盖/园林井盖) score 0.5 or less.
NAME_SIMILARITY = 0.6

CROSSWALK_COLUMNS = (
    "old_kind",
    "old_major_code",
    "old_major_name",
    "old_code",
    "old_name",
    "new_kind",
    "new_code",
    "new_name",
    "match",
    "note",
)

_BRACKETED = re.compile(r"（[^）]*）|\([^)]*\)")
_PUNCTUATION = re.compile(r"[\s、，,。.·/]+")


@dataclass(frozen=True)
class OldEntry:
    kind: str  # "component" or "event" (2013 wording)
    major_code: str
    major_name: str
    code: str  # 4 digits
    name: str


@dataclass(frozen=True)
class NewEntry:
    kind: str  # "component" or "matter"
    code: str  # 5 digits
    name: str


@dataclass(frozen=True)
class ManualMatch:
    old_kind: str
    old_code: str
    new_kind: str
    new_code: str  # "" declares the code deliberately unmatched
    note: str


@dataclass(frozen=True)
class CrosswalkRow:
    old: OldEntry
    new_kind: str
    new_code: str
    new_name: str
    match: str
    note: str

    def as_record(self) -> dict[str, str]:
        return {
            "old_kind": self.old.kind,
            "old_major_code": self.old.major_code,
            "old_major_name": self.old.major_name,
            "old_code": self.old.code,
            "old_name": self.old.name,
            "new_kind": self.new_kind,
            "new_code": self.new_code,
            "new_name": self.new_name,
            "match": self.match,
            "note": self.note,
        }


def normalize_name(name: str) -> str:
    """The name without bracketed variants and punctuation: 道路遗撒（洒） → 道路遗撒."""
    return _PUNCTUATION.sub("", _BRACKETED.sub("", name))


def name_similarity(a: str, b: str) -> float:
    return SequenceMatcher(None, normalize_name(a), normalize_name(b)).ratio()


def new_kind_for(old_kind: str) -> str:
    return NEW_COMPONENT if old_kind == OLD_COMPONENT else NEW_MATTER


def rule_target(old: OldEntry) -> str | None:
    """The 2026 code the numbering rule gives, or ``None`` when no rule applies."""
    minor = old.code[2:]
    if old.kind == OLD_COMPONENT:
        return f"{old.major_code}0{minor}"
    new_major = EVENT_CLASS_MAP.get(old.major_code)
    return f"{new_major}0{minor}" if new_major else None


def check_manual(
    manual: Iterable[ManualMatch], old_entries: Sequence[OldEntry], new_entries: Sequence[NewEntry]
) -> list[str]:
    """Problems of the manual table: unknown codes on either side, duplicates, kind mix-ups."""
    old_keys = {(o.kind, o.code) for o in old_entries}
    new_keys = {(n.kind, n.code) for n in new_entries}
    problems: list[str] = []
    seen: set[tuple[str, str]] = set()
    for item in manual:
        key = (item.old_kind, item.old_code)
        if key in seen:
            problems.append(f"人工对照表中 {item.old_kind} {item.old_code} 重复")
        seen.add(key)
        if key not in old_keys:
            problems.append(f"人工对照表中的旧编码 {item.old_kind} {item.old_code} 不在 2013 目录中")
        if item.new_code and (item.new_kind, item.new_code) not in new_keys:
            problems.append(f"人工对照表中的新编码 {item.new_kind} {item.new_code} 不在 2026 目录中")
        if item.new_code and item.old_kind == OLD_COMPONENT and item.new_kind != NEW_COMPONENT:
            problems.append(f"人工对照表中部件 {item.old_code} 只能对应到部件")
    return problems


def build_crosswalk(
    old_entries: Sequence[OldEntry], new_entries: Sequence[NewEntry], manual: Iterable[ManualMatch] = ()
) -> list[CrosswalkRow]:
    """One row per 2013 entry, in the order given; raises ``ValueError`` on a bad manual table."""
    manual = list(manual)
    problems = check_manual(manual, old_entries, new_entries)
    if problems:
        raise ValueError("；".join(problems))
    by_key = {(n.kind, n.code): n for n in new_entries}
    by_name: dict[tuple[str, str], list[NewEntry]] = {}
    for entry in new_entries:
        by_name.setdefault((entry.kind, normalize_name(entry.name)), []).append(entry)
    manual_by_key = {(m.old_kind, m.old_code): m for m in manual}

    rows: list[CrosswalkRow] = []
    for old in old_entries:
        kind = new_kind_for(old.kind)
        decided = manual_by_key.get((old.kind, old.code))
        if decided is not None:
            if decided.new_code:
                target = by_key[(decided.new_kind, decided.new_code)]
                rows.append(CrosswalkRow(old, target.kind, target.code, target.name, MANUAL, decided.note))
            else:
                rows.append(CrosswalkRow(old, "", "", "", UNMATCHED, decided.note))
            continue

        code = rule_target(old)
        rule_hit = by_key.get((kind, code)) if code else None
        same_as_rule = rule_hit is not None and normalize_name(old.name) == normalize_name(rule_hit.name)
        if rule_hit is not None and same_as_rule:
            rows.append(CrosswalkRow(old, kind, rule_hit.code, rule_hit.name, CODE_RULE, ""))
            continue

        candidates = sorted(by_name.get((kind, normalize_name(old.name)), []), key=lambda n: n.code)
        if candidates:
            # Prefer the class the numbering rule points to; a name that moved class (露天烧烤
            # from 街面秩序 to 市容环境) still matches, and the note says so.
            preferred = [c for c in candidates if code and c.code[:2] == code[:2]]
            chosen = (preferred or candidates)[0]
            note = ""
            if code and chosen.code[:2] != code[:2]:
                note = f"2026 版归入 {chosen.code[:2]} 大类"
            rows.append(CrosswalkRow(old, kind, chosen.code, chosen.name, SAME_NAME, note))
            continue

        # Only now a merely similar name under the rule's code: an exact namesake elsewhere
        # beats it (2013 0213 路名牌 is 2026 02012 路名牌, not 02013 地名牌).
        if rule_hit is not None and name_similarity(old.name, rule_hit.name) >= NAME_SIMILARITY:
            rows.append(CrosswalkRow(old, kind, rule_hit.code, rule_hit.name, CODE_RULE, "名称有变"))
            continue

        note = "2026 目录中没有同名或按编码规则可对应的类别"
        if rule_hit is not None:
            note = f"按编码规则应为 {rule_hit.code} {rule_hit.name}，名称不符，未采用"
        rows.append(CrosswalkRow(old, "", "", "", UNMATCHED, note))
    return rows


def crosswalk_csv(rows: Iterable[CrosswalkRow]) -> str:
    """The crosswalk as the CSV text shipped in ``data/`` (UTF-8, ``\\n`` line ends)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CROSSWALK_COLUMNS)
    for row in rows:
        record = row.as_record()
        writer.writerow([record[name] for name in CROSSWALK_COLUMNS])
    return buffer.getvalue()
