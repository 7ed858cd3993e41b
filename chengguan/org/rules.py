"""Rules for the org chart and staff tables clerks exchange, in plain Python.

An import file is checked here row by row against what the database already holds (passed
in as plain records, never as ORM objects), and every problem is collected with its row and
column, so one answer lists everything a clerk must fix. Nothing here touches the database:
``services`` loads the snapshot, calls these checks and writes only when they found nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Generic, TypeVar

from chengguan.core.tabular import RowError

# Column names are what a clerk sees in Excel; export writes them in this order.
UNIT_COLUMNS: tuple[str, ...] = (
    "单位编码",
    "名称",
    "简称",
    "类型",
    "上级单位编码",
    "所属镇街编码",
    "职能领域",
    "城管委成员",
    "入格",
    "联系电话",
    "地址",
    "在用",
)
UNIT_REQUIRED: tuple[str, ...] = ("单位编码", "名称", "类型")

STAFF_COLUMNS: tuple[str, ...] = ("工号", "姓名", "岗位", "所属单位编码", "手机号", "在岗", "登录账号")
STAFF_REQUIRED: tuple[str, ...] = ("工号", "姓名", "岗位", "所属单位编码")

# Maximum lengths mirror the model fields, so a long value is reported instead of failing
# (PostgreSQL) or being stored whole (SQLite) during the write.
UNIT_MAX_LENGTH = {"单位编码": 32, "名称": 100, "简称": 30, "联系电话": 40, "地址": 200}
STAFF_MAX_LENGTH = {"工号": 32, "姓名": 50, "手机号": 20, "登录账号": 150}

TRUE_WORDS = frozenset({"是", "1", "true", "yes", "y", "t", "√"})
FALSE_WORDS = frozenset({"否", "0", "false", "no", "n", "f", "×"})

# Clerks separate lists with the Chinese enumeration comma, an ASCII or full-width comma,
# or a semicolon; all are accepted, export writes 、.
LIST_SEPARATORS = re.compile(r"[、,，;；]")
DOMAIN_SEPARATOR = "、"

MOBILE = re.compile(r"^1[3-9]\d{9}$")
# One landline, mobile or service number: digits with the usual punctuation and an optional
# extension (转 or ext).
PHONE_PART = re.compile(r"^\+?[\d(（][\d\s\-()（）]*\d(\s*(转|ext\.?)\s*\d{1,6})?$", re.IGNORECASE)
PHONE_SEPARATORS = re.compile(r"[、,，;；/]")


def yes_no(value: bool) -> str:
    return "是" if value else "否"


def parse_bool(text: str) -> bool | None:
    """是/否, 1/0, true/false (any case); ``None`` when the text is none of those."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def parse_choice(text: str, choices: Sequence[tuple[str, str]]) -> str | None:
    """The stored value of a choice given either its Chinese label or its code."""
    word = text.strip()
    for value, label in choices:
        if word == label or word.lower() == value.lower():
            return value
    return None


def choice_label(value: str, choices: Sequence[tuple[str, str]]) -> str:
    return next((label for code, label in choices if code == value), value)


def split_list(text: str) -> list[str]:
    return [part.strip() for part in LIST_SEPARATORS.split(text) if part.strip()]


def normalize_mobile(text: str) -> str | None:
    """An 11-digit mainland mobile number, without spaces, dashes or +86; ``None`` if invalid."""
    digits = re.sub(r"[\s\-]", "", text)
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if MOBILE.match(digits) else None


def valid_phone(text: str) -> bool:
    """One or more phone numbers (landline, mobile or a short service line such as 12345)."""
    parts = [part.strip() for part in PHONE_SEPARATORS.split(text)]
    if not parts or any(not part for part in parts):
        return False
    for part in parts:
        if not PHONE_PART.match(part):
            return False
        digits = sum(ch.isdigit() for ch in part)
        if not 3 <= digits <= 20:
            return False
    return True


def table_format(filename: str) -> str | None:
    """``csv`` or ``xlsx`` from a file name; ``None`` for anything else."""
    lower = filename.lower()
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith((".xlsx", ".xlsm")):
        return "xlsx"
    return None


def find_cycles(parents: Mapping[str, str | None]) -> list[list[str]]:
    """Every cycle of a parent map, each as the codes in order starting at its smallest code."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = finished
    cycles: list[list[str]] = []
    for start in sorted(parents):
        if state.get(start):
            continue
        path: list[str] = []
        node: str | None = start
        while node is not None and node in parents and not state.get(node):
            state[node] = 1
            path.append(node)
            node = parents[node]
        if node is not None and state.get(node) == 1:
            cycle = path[path.index(node) :]
            pivot = cycle.index(min(cycle))
            cycles.append(cycle[pivot:] + cycle[:pivot])
        for visited in path:
            state[visited] = 2
    return cycles


@dataclass(frozen=True)
class UnitSchema:
    """What the rules need to know about unit kinds, given by the models."""

    kinds: Sequence[tuple[str, str]]
    territorial: frozenset[str]
    needs_territory: frozenset[str]


@dataclass(frozen=True)
class UnitRecord:
    """A unit as the import compares it: references are codes, domains are names."""

    code: str
    name: str
    kind: str
    short_name: str = ""
    parent: str | None = None
    territory: str | None = None
    domains: frozenset[str] = field(default_factory=frozenset)
    committee_member: bool = False
    in_grid: bool = False
    contact_phone: str = ""
    address: str = ""
    active: bool = True


@dataclass(frozen=True)
class StaffRecord:
    code: str
    name: str
    role: str
    unit: str
    phone: str = ""
    active: bool = True
    user: str | None = None


RecordT = TypeVar("RecordT", "UnitRecord", "StaffRecord")


@dataclass
class Checked(Generic[RecordT]):
    """Rows that passed, keyed by code in file order, and every error found."""

    records: dict[str, RecordT]
    rows: dict[str, int]  # code -> line in the file
    errors: list[RowError]


def check_header(header: Sequence[str], known: Sequence[str], required: Sequence[str]) -> list[RowError]:
    errors: list[RowError] = []
    missing = [name for name in required if name not in header]
    if missing:
        errors.append(RowError(1, "", "缺少必需的列：" + "、".join(missing)))
    unknown = [name for name in header if name not in known]
    if unknown:
        errors.append(
            RowError(1, "", "无法识别的列：" + "、".join(unknown) + "。可用的列：" + "、".join(known))
        )
    return errors


class _RowReader:
    """Reads the cells of one row, recording a problem per bad cell."""

    def __init__(self, line: int, cells: Mapping[str, str], errors: list[RowError]) -> None:
        self.line = line
        self.cells = cells
        self.errors = errors
        self.failed = False
        if cells.get("__extra__"):
            self.error("", "本行的单元格比表头多，请检查是否有多余的逗号或错位的列。")

    def error(self, column: str, message: str) -> None:
        self.errors.append(RowError(self.line, column, message))
        self.failed = True

    def has(self, column: str) -> bool:
        return column in self.cells

    def text(self, column: str, *, max_length: int | None = None, required: bool = False) -> str:
        value = self.cells.get(column, "")
        if required and not value:
            self.error(column, "必填，不能为空。")
        if max_length is not None and len(value) > max_length:
            self.error(column, f"长度 {len(value)} 超过上限 {max_length} 个字符。")
        return value

    def boolean(self, column: str, default: bool) -> bool:
        value = self.cells.get(column, "")
        if not value:
            return default
        parsed = parse_bool(value)
        if parsed is None:
            self.error(column, f"「{value}」不是有效的是/否值，请填“是”或“否”（也可填 1/0、true/false）。")
            return default
        return parsed


def _error_order(columns: Sequence[str]) -> Callable[[RowError], tuple[int, int]]:
    """Errors sorted by row, then in the order of the columns, so a report reads like the file."""

    def key(error: RowError) -> tuple[int, int]:
        return (error.row, columns.index(error.field) if error.field in columns else -1)

    return key


def _choices_hint(choices: Sequence[tuple[str, str]]) -> str:
    return "、".join(label for _, label in choices)


def check_units(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    *,
    existing: Mapping[str, UnitRecord],
    schema: UnitSchema,
    domain_names: Mapping[str, str],
) -> Checked[UnitRecord]:
    """Check unit rows against themselves and the units already stored.

    A column missing from the file leaves that field of an existing unit as it is; an empty
    cell sets the field to its default. ``domain_names`` maps every accepted spelling of a
    functional domain (name or code) to its name.
    """
    errors: list[RowError] = []
    records: dict[str, UnitRecord] = {}
    lines: dict[str, int] = {}
    # References are checked after every row is read, because a parent may come later.
    references: list[tuple[int, str, str]] = []  # (line, column, referenced code)
    failed: set[str] = set()

    for line, cells in rows:
        row = _RowReader(line, cells, errors)
        code = row.text("单位编码", max_length=UNIT_MAX_LENGTH["单位编码"], required=True)
        if code and code in lines:
            row.error("单位编码", f"单位编码「{code}」在本文件中重复（第 {lines[code]} 行已出现）。")
            continue
        before = existing.get(code) if code else None
        name = row.text("名称", max_length=UNIT_MAX_LENGTH["名称"], required=True)
        kind_text = row.text("类型", required=True)
        kind = parse_choice(kind_text, schema.kinds) if kind_text else None
        if kind_text and kind is None:
            hint = _choices_hint(schema.kinds)
            row.error("类型", f"未知的单位类型「{kind_text}」。可填：{hint}（或英文代码）。")
        base = before or UnitRecord(code=code, name=name, kind=kind or "")
        values: dict[str, object] = {"code": code, "name": name, "kind": kind or base.kind}
        for column, attr in (("简称", "short_name"), ("地址", "address")):
            if row.has(column):
                values[attr] = row.text(column, max_length=UNIT_MAX_LENGTH[column])
        if row.has("联系电话"):
            phone = row.text("联系电话", max_length=UNIT_MAX_LENGTH["联系电话"])
            if phone and not valid_phone(phone):
                row.error("联系电话", f"联系电话「{phone}」格式不正确，应为数字电话号码，多个号码用、分隔。")
            values["contact_phone"] = phone
        for column, attr, default in (
            ("城管委成员", "committee_member", False),
            ("入格", "in_grid", False),
            ("在用", "active", True),
        ):
            if row.has(column):
                values[attr] = row.boolean(column, default)
        for column, attr in (("上级单位编码", "parent"), ("所属镇街编码", "territory")):
            if row.has(column):
                target = row.text(column)
                values[attr] = target or None
                if target and code:
                    references.append((line, column, target))
        if row.has("职能领域"):
            names: set[str] = set()
            for word in split_list(row.text("职能领域")):
                if word in domain_names:
                    names.add(domain_names[word])
                else:
                    known = "、".join(sorted(set(domain_names.values()))) or "（系统中尚未登记任何职能领域）"
                    row.error("职能领域", f"未知的职能领域「{word}」。已登记的有：{known}。")
            values["domains"] = frozenset(names)
        if not code:
            continue
        lines[code] = line
        # A row with errors is still recorded, so rows referring to its code are not also
        # reported as unknown: the clerk fixes the row itself, not every reference to it.
        records[code] = replace(base, **values)  # type: ignore[arg-type]
        if row.failed:
            failed.add(code)

    final: dict[str, UnitRecord] = {**existing, **records}

    for line, column, target in references:
        if target in failed:
            continue
        if target not in final:
            what = "上级单位" if column == "上级单位编码" else "所属镇街"
            errors.append(
                RowError(line, column, f"{what}「{target}」不存在：既不在本文件中，也不在系统中。")
            )
        elif column == "所属镇街编码" and final[target].kind not in schema.territorial:
            label = choice_label(final[target].kind, schema.kinds)
            errors.append(
                RowError(line, column, f"所属镇街「{target}」的类型是{label}，只能填镇或街道。")
            )

    for code, record in records.items():
        line = lines[code]
        if code in failed:
            continue
        if record.kind in schema.needs_territory and not record.territory:
            label = choice_label(record.kind, schema.kinds)
            errors.append(RowError(line, "所属镇街编码", f"{label}必须填写所属镇街编码。"))
        if record.kind not in schema.territorial and code in existing:
            dependants = sorted(
                other.code
                for other in existing.values()
                if other.territory == code and other.code not in records
            )
            if dependants:
                label = choice_label(record.kind, schema.kinds)
                errors.append(
                    RowError(
                        line,
                        "类型",
                        f"单位「{code}」仍是 {len(dependants)} 个单位（{'、'.join(dependants[:5])}"
                        f"{'等' if len(dependants) > 5 else ''}）的所属镇街，不能改为{label}。",
                    )
                )

    parents = {code: record.parent if record.parent in final else None for code, record in final.items()}
    for cycle in find_cycles(parents):
        chain = " → ".join([*cycle, cycle[0]])
        for code in cycle:
            if code in records:
                errors.append(RowError(lines[code], "上级单位编码", f"上级单位形成循环：{chain}。"))

    errors.sort(key=_error_order(UNIT_COLUMNS))
    return Checked(records, lines, errors)


def check_staff(
    rows: Iterable[tuple[int, Mapping[str, str]]],
    *,
    existing: Mapping[str, StaffRecord],
    roles: Sequence[tuple[str, str]],
    unit_codes: Iterable[str],
    usernames: Iterable[str],
    create_users: bool = False,
) -> Checked[StaffRecord]:
    """Check staff rows; ``usernames`` are the login accounts that exist already."""
    errors: list[RowError] = []
    records: dict[str, StaffRecord] = {}
    lines: dict[str, int] = {}
    units = set(unit_codes)
    accounts = set(usernames)

    for line, cells in rows:
        row = _RowReader(line, cells, errors)
        code = row.text("工号", max_length=STAFF_MAX_LENGTH["工号"], required=True)
        if code and code in lines:
            row.error("工号", f"工号「{code}」在本文件中重复（第 {lines[code]} 行已出现）。")
            continue
        name = row.text("姓名", max_length=STAFF_MAX_LENGTH["姓名"], required=True)
        role_text = row.text("岗位", required=True)
        role = parse_choice(role_text, roles) if role_text else None
        if role_text and role is None:
            row.error("岗位", f"未知的岗位「{role_text}」。可填：{_choices_hint(roles)}（或英文代码）。")
        unit = row.text("所属单位编码", required=True)
        if unit and unit not in units:
            row.error("所属单位编码", f"所属单位「{unit}」不存在。请先导入或登记该单位。")
        base = existing.get(code) or StaffRecord(code=code, name=name, role=role or "", unit=unit)
        values: dict[str, object] = {"code": code, "name": name, "role": role or base.role, "unit": unit}
        if row.has("手机号"):
            phone_text = row.text("手机号")
            phone = normalize_mobile(phone_text) if phone_text else ""
            if phone is None:
                row.error("手机号", f"手机号「{phone_text}」格式不正确，应为 11 位手机号码。")
            values["phone"] = phone or ""
        if row.has("在岗"):
            values["active"] = row.boolean("在岗", True)
        if row.has("登录账号"):
            username = row.text("登录账号", max_length=STAFF_MAX_LENGTH["登录账号"])
            if username and username not in accounts and not create_users:
                message = f"登录账号「{username}」不存在。请先在后台创建该账号，或导入时选择自动创建账号。"
                row.error("登录账号", message)
            values["user"] = username or None
        if not code:
            continue
        lines[code] = line
        if not row.failed:
            records[code] = replace(base, **values)  # type: ignore[arg-type]

    # One login account belongs to one person (the model's one-to-one link).
    holders: dict[str, list[str]] = {}
    for code, record in {**existing, **records}.items():
        if record.user:
            holders.setdefault(record.user, []).append(code)
    for username, codes in holders.items():
        if len(codes) < 2:
            continue
        for code in codes:
            if code in records:
                others = "、".join(other for other in codes if other != code)
                message = f"登录账号「{username}」同时分配给了工号 {others}，一个账号只能对应一人。"
                errors.append(RowError(lines[code], "登录账号", message))

    errors.sort(key=_error_order(STAFF_COLUMNS))
    return Checked(records, lines, errors)
