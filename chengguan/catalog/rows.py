"""Checking the rows of a bureau's time-limit and powers files, in plain Python.

Clerks fill these tables in Excel, so headers are Chinese (the English field names are
accepted too), choices may be written as the Chinese label or the code, and every problem is
reported with its row and column. What the database already holds (categories, functional
domains) is passed in as plain sets and mappings; nothing here touches the database.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from chengguan.catalog.limits import (
    STEP_LABELS,
    parse_area_class,
    parse_hours,
    parse_step,
    parse_work_kind,
)
from chengguan.core.tabular import RowError

KIND_WORDS = {
    "component": "component",
    "部件": "component",
    "matter": "matter",
    "事项": "matter",
    # GB/T 30428.2-2013 and most running systems say 事件.
    "event": "matter",
    "事件": "matter",
}
KIND_LABELS = {"component": "部件", "matter": "事项"}

TRUE_WORDS = frozenset({"1", "是", "true", "yes", "y"})
FALSE_WORDS = frozenset({"0", "否", "false", "no", "n"})
LIST_SEPARATORS = re.compile(r"[、,，;；\s]+")
_CATEGORY_REF = re.compile(
    r"^(?:(部件|事项|事件|component|matter|event)\s*[:：]?\s*)?(\d{5})$", re.IGNORECASE
)

# Column name -> field, for both the Chinese headers clerks use and the English field names.
TIME_LIMIT_COLUMNS = {
    "类型": "kind",
    "kind": "kind",
    "类别编码": "code",
    "编码": "code",
    "code": "code",
    "环节": "step",
    "step": "step",
    "区域类别": "area_class",
    "area_class": "area_class",
    "处置类型": "work_kind",
    "work_kind": "work_kind",
    "时限（工作时）": "hours",
    "时限(工作时)": "hours",
    "时限": "hours",
    "hours": "hours",
    "来源": "source",
    "source": "source",
}
TIME_LIMIT_LABELS = {
    "kind": "类型",
    "code": "类别编码",
    "step": "环节",
    "area_class": "区域类别",
    "work_kind": "处置类型",
    "hours": "时限（工作时）",
    "source": "来源",
}
TIME_LIMIT_REQUIRED = {key: TIME_LIMIT_LABELS[key] for key in ("code", "step", "hours")}

POWER_COLUMNS = {
    "事项编码": "code",
    "code": "code",
    "事项名称": "name",
    "name": "name",
    "职能领域": "domain",
    "domain": "domain",
    "法律依据": "legal_basis",
    "legal_basis": "legal_basis",
    "责任单位类型": "responsible_unit_kind",
    "responsible_unit_kind": "responsible_unit_kind",
    "生效日期": "effective_from",
    "effective_from": "effective_from",
    "失效日期": "effective_to",
    "effective_to": "effective_to",
    "相关类别": "categories",
    "categories": "categories",
    "备注": "note",
    "note": "note",
}
POWER_REQUIRED = {
    "code": "事项编码",
    "name": "事项名称",
    "domain": "职能领域",
    "legal_basis": "法律依据",
    "responsible_unit_kind": "责任单位类型",
    "effective_from": "生效日期",
}
# Mirror the model fields so a long value is reported, not cut or refused by the database.
POWER_MAX_LENGTH = {"code": 40, "name": 200}
SOURCE_MAX_LENGTH = 200


@dataclass(frozen=True)
class TimeLimitRecord:
    kind: str
    code: str
    step: str
    area_class: str
    work_kind: str
    hours: Decimal
    source: str
    line: int


@dataclass(frozen=True)
class PowerRecord:
    code: str
    name: str
    domain: str  # the domain's code
    legal_basis: str
    responsible_unit_kind: str
    effective_from: dt.date
    effective_to: dt.date | None
    categories: tuple[tuple[str, str], ...]  # sorted (kind, code)
    note: str
    line: int


def parse_bool(text: str) -> bool | None:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_kind(text: str) -> str | None:
    word = text.strip()
    return KIND_WORDS.get(word.lower(), KIND_WORDS.get(word))


def parse_date(text: str) -> dt.date | None:
    """ISO dates, also 2020/7/1, 2020年7月1日 and the "2020-07-01 00:00:00" Excel cells give."""
    word = text.strip()
    word = re.sub(r"\s+00:00(:00)?$", "", word)
    match = re.match(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$", word)
    if not match:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def parse_category_refs(text: str) -> tuple[list[tuple[str, str]], list[str]]:
    """ "事项06001、部件01001" → [("matter", "06001"), ("component", "01001")], unreadable parts.

    A bare code gives kind "" and is resolved against the catalogue by ``resolve_refs``.
    """
    refs: list[tuple[str, str]] = []
    bad: list[str] = []
    # Allow "事项 06001" by gluing a kind word to the code that follows it.
    glued = re.sub(
        r"(部件|事项|事件|component|matter|event)\s*[:：]?\s+(?=\d)", r"\1", text.strip(), flags=re.I
    )
    for part in LIST_SEPARATORS.split(glued):
        if not part:
            continue
        match = _CATEGORY_REF.match(part)
        if not match:
            bad.append(part)
            continue
        kind = parse_kind(match.group(1)) if match.group(1) else ""
        refs.append((kind or "", match.group(2)))
    return refs, bad


def resolve_refs(
    refs: Sequence[tuple[str, str]], known: Collection[tuple[str, str]]
) -> tuple[list[tuple[str, str]], list[str]]:
    """Refs with their kind filled in, and a message per unknown or ambiguous one."""
    resolved: list[tuple[str, str]] = []
    messages: list[str] = []
    for kind, code in refs:
        if kind:
            if (kind, code) in known:
                resolved.append((kind, code))
            else:
                messages.append(f"{KIND_LABELS[kind]} {code} 不在类别目录中")
            continue
        hits = [k for k in ("component", "matter") if (k, code) in known]
        if len(hits) == 1:
            resolved.append((hits[0], code))
        elif not hits:
            messages.append(f"类别 {code} 不在类别目录中")
        else:
            messages.append(f"{code} 既是部件也是事项，请写成“部件{code}”或“事项{code}”")
    return sorted(set(resolved)), messages


def map_columns(header: Sequence[str], columns: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    """field -> header name, and header names that map to a field already taken."""
    mapping: dict[str, str] = {}
    clashes: list[str] = []
    for name in header:
        target = columns.get(name.strip()) or columns.get(name.strip().lower())
        if target is None:
            continue
        if target in mapping:
            clashes.append(name)
        else:
            mapping[target] = name
    return mapping, clashes


def missing_columns(mapping: Mapping[str, str], required: Mapping[str, str]) -> list[str]:
    return [label for key, label in required.items() if key not in mapping]


def _category_key(
    kind_text: str, code: str, known: Collection[tuple[str, str]]
) -> tuple[tuple[str, str] | None, str, str]:
    """((kind, code), "", "") or (None, column, message)."""
    if not re.fullmatch(r"\d{5}", code):
        return None, "code", f"类别编码“{code}”应为 5 位数字"
    if kind_text:
        kind = parse_kind(kind_text)
        if kind is None:
            return None, "kind", f"类型“{kind_text}”无效，请填写 部件 或 事项"
        if (kind, code) not in known:
            return None, "code", f"{KIND_LABELS[kind]} {code} 不在类别目录中"
        return (kind, code), "", ""
    hits = [kind for kind in ("component", "matter") if (kind, code) in known]
    if not hits:
        return None, "code", f"类别 {code} 不在类别目录中"
    if len(hits) > 1:
        return None, "kind", f"{code} 既是部件也是事项，请在「类型」列填写 部件 或 事项"
    return (hits[0], code), "", ""


def check_time_limit_rows(
    rows: Sequence[tuple[int, Mapping[str, str]]],
    columns: Mapping[str, str],
    known_categories: Collection[tuple[str, str]],
) -> tuple[list[TimeLimitRecord], list[RowError]]:
    """Every row checked; ``columns`` is the field -> header mapping from ``map_columns``."""
    records: list[TimeLimitRecord] = []
    errors: list[RowError] = []
    first_line: dict[tuple[str, str, str, str, str], int] = {}

    def cell(row: Mapping[str, str], name: str) -> str:
        return row.get(columns[name], "").strip() if name in columns else ""

    def col(name: str) -> str:
        return columns.get(name, TIME_LIMIT_LABELS[name])

    for line, row in rows:
        before = len(errors)
        if "__extra__" in row:
            errors.append(RowError(line, "", "这一行的列数多于表头"))
        key, column, message = _category_key(cell(row, "kind"), cell(row, "code"), known_categories)
        if key is None:
            errors.append(RowError(line, col(column), message))
        step = parse_step(cell(row, "step"))
        if step is None:
            allowed = "、".join(STEP_LABELS)
            errors.append(RowError(line, col("step"), f"环节“{cell(row, 'step')}”无效，可填：{allowed}"))
        area = parse_area_class(cell(row, "area_class"))
        if area is None:
            errors.append(
                RowError(
                    line, col("area_class"), f"区域类别“{cell(row, 'area_class')}”无效，可填 A、B、C 或留空"
                )
            )
        work = parse_work_kind(cell(row, "work_kind"))
        if work is None:
            allowed = "一般性、工程性、特殊性"
            errors.append(
                RowError(
                    line, col("work_kind"), f"处置类型“{cell(row, 'work_kind')}”无效，可填{allowed}或留空"
                )
            )
        hours, hours_message = parse_hours(cell(row, "hours"))
        if hours is None:
            errors.append(RowError(line, col("hours"), hours_message))
        source = cell(row, "source")
        if len(source) > SOURCE_MAX_LENGTH:
            errors.append(RowError(line, col("source"), f"来源不能超过 {SOURCE_MAX_LENGTH} 字"))
        if (
            len(errors) > before
            or key is None
            or step is None
            or area is None
            or work is None
            or hours is None
        ):
            continue
        dedupe = (key[0], key[1], step, area, work)
        if dedupe in first_line:
            errors.append(RowError(line, "", f"与第 {first_line[dedupe]} 行是同一类别、环节、区域和处置类型"))
            continue
        first_line[dedupe] = line
        records.append(TimeLimitRecord(key[0], key[1], step, area, work, hours, source, line))
    return records, errors


def check_power_rows(
    rows: Sequence[tuple[int, Mapping[str, str]]],
    columns: Mapping[str, str],
    *,
    domains: Mapping[str, str],
    unit_kinds: Sequence[tuple[str, str]],
    known_categories: Collection[tuple[str, str]],
) -> tuple[list[PowerRecord], list[RowError]]:
    """``domains`` maps every accepted spelling (code or name) of a domain to its code;
    ``unit_kinds`` are the (value, label) choices of the responsible unit kind."""
    records: list[PowerRecord] = []
    errors: list[RowError] = []
    first_line: dict[tuple[str, dt.date], int] = {}

    def cell(row: Mapping[str, str], name: str) -> str:
        return row.get(columns[name], "").strip() if name in columns else ""

    def col(name: str) -> str:
        return columns.get(name, POWER_REQUIRED.get(name, name))

    for line, row in rows:
        before = len(errors)
        if "__extra__" in row:
            errors.append(RowError(line, "", "这一行的列数多于表头"))
        values = {name: cell(row, name) for name in POWER_COLUMNS.values()}
        for name, label in POWER_REQUIRED.items():
            if not values[name]:
                errors.append(RowError(line, col(name), f"「{label}」不能为空"))
        for name, limit in POWER_MAX_LENGTH.items():
            if len(values[name]) > limit:
                errors.append(RowError(line, col(name), f"不能超过 {limit} 字"))
        domain = domains.get(values["domain"]) if values["domain"] else None
        if values["domain"] and domain is None:
            known = "、".join(sorted(set(domains) - set(domains.values()))) or "（尚未登记职能领域）"
            errors.append(RowError(line, col("domain"), f"职能领域“{values['domain']}”不存在，可填：{known}"))
        unit_kind = None
        if values["responsible_unit_kind"]:
            word = values["responsible_unit_kind"]
            unit_kind = next((v for v, label in unit_kinds if word in (v, label)), None)
            if unit_kind is None:
                allowed = "、".join(label for _, label in unit_kinds)
                errors.append(
                    RowError(line, col("responsible_unit_kind"), f"责任单位类型“{word}”无效，可填：{allowed}")
                )
        start = parse_date(values["effective_from"]) if values["effective_from"] else None
        if values["effective_from"] and start is None:
            errors.append(
                RowError(
                    line, col("effective_from"), f"日期“{values['effective_from']}”无效，请写成 2024-07-01"
                )
            )
        end = parse_date(values["effective_to"]) if values["effective_to"] else None
        if values["effective_to"] and end is None:
            errors.append(
                RowError(line, col("effective_to"), f"日期“{values['effective_to']}”无效，请写成 2024-07-01")
            )
        if start and end and end < start:
            errors.append(RowError(line, col("effective_to"), "失效日期早于生效日期"))
        refs, bad = parse_category_refs(values["categories"])
        resolved, messages = resolve_refs(refs, known_categories)
        for part in bad:
            messages.append(f"“{part}”不是类别编码（例如 事项06001）")
        for message in messages:
            errors.append(RowError(line, col("categories"), message))
        if len(errors) > before or domain is None or unit_kind is None or start is None:
            continue
        key = (values["code"], start)
        if key in first_line:
            errors.append(RowError(line, "", f"与第 {first_line[key]} 行的事项编码和生效日期相同"))
            continue
        first_line[key] = line
        records.append(
            PowerRecord(
                values["code"],
                values["name"],
                domain,
                values["legal_basis"],
                unit_kind,
                start,
                end,
                tuple(resolved),
                values["note"],
                line,
            )
        )
    return records, errors
