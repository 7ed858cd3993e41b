"""Reading and checking the data files shipped in ``catalog/data/``, in plain Python.

Every file is read whole and every problem collected before the loader writes anything, so a
broken file (after a bureau or a release edited it) is reported at once, line by line.
See ``data/SOURCES.md`` for what each file is and where it comes from.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chengguan.catalog.crosswalk import (
    CROSSWALK_COLUMNS,
    MATCH_METHODS,
    CrosswalkRow,
    ManualMatch,
    NewEntry,
    OldEntry,
    build_crosswalk,
)
from chengguan.catalog.defaults import BOOLEAN_SETTINGS, SETTING_FIELDS, LimitSample, Scope, SettingsRow
from chengguan.catalog.limits import parse_area_class, parse_hours, parse_step, parse_work_kind
from chengguan.catalog.rows import parse_bool

DATA_DIR = Path(__file__).resolve().parent / "data"

CATALOG_FILE = "gb47678_5_2026.csv"
OLD_CATALOG_FILE = "gb30428_2_2013_reconstructed.csv"
MANUAL_FILE = "crosswalk_manual.csv"
CROSSWALK_FILE = "crosswalk_2013_2026.csv"
DOMAINS_FILE = "domains.csv"
SETTINGS_FILE = "sample_settings.csv"
LIMITS_FILE = "sample_time_limits.csv"
POWERS_FILE = "sample_powers.csv"

# The 2026 transcription calls matters "event"; the product's word is matter (事项).
CATALOG_KINDS = {"component": "component", "event": "matter", "matter": "matter"}
KINDS = ("component", "matter")
TIERS = ("zero_tolerance", "strict", "routine")
MODES = ("service", "management", "enforcement")


class ShippedDataError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class CatalogEntry:
    kind: str
    major_code: str
    major_name: str
    code: str
    name: str
    standard: str


@dataclass(frozen=True)
class DomainEntry:
    code: str
    name: str
    order: int
    description: str


@dataclass
class Problems:
    file: str
    items: list[str] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.items.append(f"{self.file} 第 {line} 行：{message}")


def _rows(path: Path, problems: Problems, required: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        problems.items.append(f"无法打开 {path}：{exc.strerror}")
        return
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            problems.items.append(f"{problems.file} 缺少列：{'、'.join(missing)}")
            return
        for record in reader:
            yield reader.line_num, {k: (v or "").strip() for k, v in record.items() if k is not None}


def read_catalog(data_dir: Path = DATA_DIR) -> tuple[list[CatalogEntry], list[str]]:
    problems = Problems(CATALOG_FILE)
    entries: list[CatalogEntry] = []
    seen: set[tuple[str, str]] = set()
    required = ("standard", "kind", "major_code", "major_name", "minor_code", "minor_name")
    for line, row in _rows(data_dir / CATALOG_FILE, problems, required):
        kind = CATALOG_KINDS.get(row["kind"])
        code = row["minor_code"]
        if kind is None:
            problems.add(line, f"未知类型 {row['kind']}")
            continue
        if len(code) != 5 or not code.isdigit() or code[:2] != row["major_code"]:
            problems.add(line, f"编码 {code} 应为 5 位数字且以大类编码 {row['major_code']} 开头")
            continue
        if (kind, code) in seen:
            problems.add(line, f"{kind} {code} 重复")
            continue
        seen.add((kind, code))
        entries.append(
            CatalogEntry(kind, row["major_code"], row["major_name"], code, row["minor_name"], row["standard"])
        )
    return entries, problems.items


def read_old_catalog(data_dir: Path = DATA_DIR) -> tuple[list[OldEntry], list[str]]:
    problems = Problems(OLD_CATALOG_FILE)
    entries: list[OldEntry] = []
    required = ("kind", "major_code", "major_name", "minor_code", "minor_name")
    for line, row in _rows(data_dir / OLD_CATALOG_FILE, problems, required):
        code = row["minor_code"]
        if row["kind"] not in ("component", "event") or len(code) != 4 or code[:2] != row["major_code"]:
            problems.add(line, f"无法识别的 2013 条目 {row['kind']} {code}")
            continue
        entries.append(OldEntry(row["kind"], row["major_code"], row["major_name"], code, row["minor_name"]))
    return entries, problems.items


def read_manual(data_dir: Path = DATA_DIR) -> tuple[list[ManualMatch], list[str]]:
    problems = Problems(MANUAL_FILE)
    items: list[ManualMatch] = []
    required = ("old_kind", "old_code", "new_kind", "new_code", "note")
    for line, row in _rows(data_dir / MANUAL_FILE, problems, required):
        if row["new_code"] and row["new_kind"] not in KINDS:
            problems.add(line, f"新类型应为 component 或 matter，而不是“{row['new_kind']}”")
            continue
        if not row["new_code"] and not row["note"]:
            problems.add(line, "声明不对应时必须在 note 中写明原因")
            continue
        items.append(
            ManualMatch(row["old_kind"], row["old_code"], row["new_kind"], row["new_code"], row["note"])
        )
    return items, problems.items


def read_crosswalk(data_dir: Path = DATA_DIR) -> tuple[list[CrosswalkRow], list[str]]:
    problems = Problems(CROSSWALK_FILE)
    rows: list[CrosswalkRow] = []
    for line, row in _rows(data_dir / CROSSWALK_FILE, problems, CROSSWALK_COLUMNS):
        if row["match"] not in MATCH_METHODS:
            problems.add(line, f"对应方式“{row['match']}”无效")
            continue
        old = OldEntry(
            row["old_kind"], row["old_major_code"], row["old_major_name"], row["old_code"], row["old_name"]
        )
        rows.append(
            CrosswalkRow(old, row["new_kind"], row["new_code"], row["new_name"], row["match"], row["note"])
        )
    return rows, problems.items


def read_domains(data_dir: Path = DATA_DIR) -> tuple[list[DomainEntry], list[str]]:
    problems = Problems(DOMAINS_FILE)
    entries: list[DomainEntry] = []
    for line, row in _rows(data_dir / DOMAINS_FILE, problems, ("code", "name", "order")):
        if not row["code"] or not row["name"] or not row["order"].isdigit():
            problems.add(line, "代码、名称必填，排序应为整数")
            continue
        entries.append(DomainEntry(row["code"], row["name"], int(row["order"]), row.get("description", "")))
    return entries, problems.items


def _scope(line: int, row: dict[str, str], problems: Problems) -> Scope | None:
    kind, code = row["kind"], row["code"]
    if kind and kind not in KINDS:
        problems.add(line, f"类型应为 component、matter 或留空，而不是“{kind}”")
        return None
    if code and (len(code) not in (2, 5) or not code.isdigit()):
        problems.add(line, f"编码“{code}”应为 2 位大类编码、5 位类别编码或留空")
        return None
    return Scope(kind, code)


def read_settings(data_dir: Path = DATA_DIR) -> tuple[list[SettingsRow], list[str]]:
    problems = Problems(SETTINGS_FILE)
    rows: list[SettingsRow] = []
    for line, row in _rows(data_dir / SETTINGS_FILE, problems, ("kind", "code", *SETTING_FIELDS)):
        scope = _scope(line, row, problems)
        values: dict[str, Any] = {}
        for name in SETTING_FIELDS:
            text = row[name]
            if not text:
                continue
            if name in BOOLEAN_SETTINGS:
                flag = parse_bool(text)
                if flag is None:
                    problems.add(line, f"{name} 应为 1/0 或 是/否")
                    continue
                values[name] = flag
            elif name == "assessment_tier" and text not in TIERS:
                problems.add(line, f"考评层级“{text}”无效，可选：{'、'.join(TIERS)}")
            elif name == "disposition_mode" and text not in MODES:
                problems.add(line, f"处置方式“{text}”无效，可选：{'、'.join(MODES)}")
            else:
                values[name] = text
        if scope is not None:
            rows.append(SettingsRow(scope, values, line))
    return rows, problems.items


def read_limits(data_dir: Path = DATA_DIR) -> tuple[list[LimitSample], list[str]]:
    problems = Problems(LIMITS_FILE)
    rows: list[LimitSample] = []
    required = ("kind", "code", "step", "area_class", "work_kind", "hours", "source")
    for line, row in _rows(data_dir / LIMITS_FILE, problems, required):
        scope = _scope(line, row, problems)
        step = parse_step(row["step"])
        area = parse_area_class(row["area_class"])
        work = parse_work_kind(row["work_kind"])
        hours, message = parse_hours(row["hours"])
        if step is None:
            problems.add(line, f"环节“{row['step']}”无效")
        if area is None:
            problems.add(line, f"区域类别“{row['area_class']}”无效")
        if work is None:
            problems.add(line, f"处置类型“{row['work_kind']}”无效")
        if hours is None:
            problems.add(line, message)
        if len(row["source"]) > 200:
            problems.add(line, "来源超过 200 字")
        if scope is None or step is None or area is None or work is None or hours is None:
            continue
        rows.append(LimitSample(scope, step, area, work, hours, row["source"], line))
    return rows, problems.items


def read_power_rows(data_dir: Path = DATA_DIR) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The sample powers rows as text; ``rows.check_power_rows`` checks them like an import."""
    problems = Problems(POWERS_FILE)
    rows = list(_rows(data_dir / POWERS_FILE, problems, ("code", "name", "domain", "effective_from")))
    return rows, problems.items


def to_new_entries(entries: list[CatalogEntry]) -> list[NewEntry]:
    return [NewEntry(e.kind, e.code, e.name) for e in entries]


def build_shipped_crosswalk(data_dir: Path = DATA_DIR) -> list[CrosswalkRow]:
    """The crosswalk built from the shipped catalogues and manual table (raises on problems)."""
    new, new_problems = read_catalog(data_dir)
    old, old_problems = read_old_catalog(data_dir)
    manual, manual_problems = read_manual(data_dir)
    problems = new_problems + old_problems + manual_problems
    if problems:
        raise ShippedDataError(problems)
    try:
        return build_crosswalk(old, to_new_entries(new), manual)
    except ValueError as exc:
        raise ShippedDataError([str(exc)]) from exc
