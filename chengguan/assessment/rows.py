"""The standard's three tables as clerks exchange them (items, indicator weights, rules).

Plain Python: rows of text in, typed records and row-level errors out. Unit codes are checked
against a set passed in; ``services`` loads it, calls these checks and writes only when clean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from chengguan.assessment import indicators
from chengguan.core.tabular import ImportReport, Table

TIERS = (("zero_tolerance", "零容忍"), ("strict", "严管理"), ("routine", "常规"))
TRACKS = (("territorial", "镇街"), ("departmental", "部门"), ("both", "双轨"))
BASES = (("occurrence", "按次"), ("measure", "按计量"))
SUBJECTS = (
    ("territorial", "镇街"),
    ("departmental", "部门"),
    ("inspector", "监督员"),
    ("operator", "受理员"),
    ("shift_leader", "值班长"),
    ("dispatcher", "派遣员"),
)
TRIGGERS = (
    ("finding_tier", "出现该层级问题"),
    ("last_place", "连续排名末位"),
    ("double_check", "一票双查"),
    ("score_below", "得分低于"),
)
MEASURES = (
    ("criticism", "通报批评"),
    ("interview", "领导约谈"),
    ("training", "离岗培训"),
    ("reorganisation", "组织调整"),
    ("double_check", "一票双查"),
)
BODIES = (("assessment_group", "考评小组"), ("discipline", "纪检监察"), ("organisation", "组织部门"))

ITEM_COLUMNS = (
    "编号",
    "层级",
    "条目",
    "考评内容",
    "分值",
    "计分方式",
    "计量单位",
    "单项封顶",
    "适用对象",
    "所需证据",
    "监管部门编码",
    "排序",
)
ITEM_REQUIRED = ("编号", "层级", "条目", "分值")
WEIGHT_COLUMNS = ("考评对象", "指标", "权重", "目标值", "加减分系数", "最少样本")
WEIGHT_REQUIRED = ("考评对象", "指标")
RULE_COLUMNS = (
    "编号",
    "名称",
    "触发条件",
    "问题层级",
    "连续末位起",
    "连续末位止",
    "分数线",
    "适用对象",
    "追责措施",
    "跟进机构",
    "启用",
    "排序",
    "说明",
)
RULE_REQUIRED = ("编号", "名称", "触发条件", "追责措施", "跟进机构")


def choice(text: str, choices: Sequence[tuple[str, str]]) -> str | None:
    word = text.strip()
    for value, label in choices:
        if word in (value, label) or word.lower() == value:
            return value
    return None


def labels(choices: Sequence[tuple[str, str]]) -> str:
    return "、".join(label for _v, label in choices)


class _Row:
    """Collects the errors of one row while its cells are read."""

    def __init__(self, line: int, cells: dict[str, str], report: ImportReport) -> None:
        self.line, self.cells, self.report = line, cells, report
        self.failed = False

    def text(self, column: str, max_length: int = 0, required: bool = False) -> str:
        value = self.cells.get(column, "")
        if required and not value:
            self.fail(column, "不能为空")
        if max_length and len(value) > max_length:
            self.fail(column, f"不能超过 {max_length} 个字")
        return value

    def decimal(self, column: str, required: bool = False) -> Decimal | None:
        value = self.cells.get(column, "")
        if not value:
            if required:
                self.fail(column, "不能为空")
            return None
        try:
            number = Decimal(value.replace("＋", "+").replace("－", "-").replace("−", "-"))
        except InvalidOperation:
            self.fail(column, f"“{value}”不是数字")
            return None
        if not number.is_finite() or abs(number) >= Decimal("1e6"):
            self.fail(column, f"“{value}”超出范围")
            return None
        return number

    def integer(self, column: str) -> int | None:
        value = self.cells.get(column, "")
        if not value:
            return None
        if not value.isdigit() or int(value) > 100000:
            self.fail(column, f"“{value}”不是非负整数")
            return None
        return int(value)

    def pick(self, column: str, choices: Sequence[tuple[str, str]], default: str | None = None) -> str:
        value = self.cells.get(column, "")
        if not value:
            if default is None:
                self.fail(column, "不能为空")
                return ""
            return default
        picked = choice(value, choices)
        if picked is None:
            self.fail(column, f"“{value}”无效，应为 {labels(choices)} 之一")
            return ""
        return picked

    def flag(self, column: str, default: bool) -> bool:
        value = self.cells.get(column, "").strip().lower()
        if not value:
            return default
        if value in {"是", "1", "true", "yes", "y", "√"}:
            return True
        if value in {"否", "0", "false", "no", "n", "×"}:
            return False
        self.fail(column, f"“{value}”应为 是 或 否")
        return default

    def fail(self, column: str, message: str) -> None:
        self.failed = True
        self.report.add(self.line, column, message)


@dataclass(frozen=True)
class ItemRow:
    line: int
    code: str
    tier: str
    title: str
    description: str
    points: Decimal
    basis: str
    measure_unit: str
    cap: Decimal | None
    track: str
    evidence_required: str
    supervisor_code: str
    order: int


@dataclass(frozen=True)
class WeightRow:
    line: int
    subject: str
    indicator: str
    weight: Decimal
    target: Decimal | None
    points: Decimal | None
    min_base: int


@dataclass(frozen=True)
class RuleRow:
    line: int
    code: str
    name: str
    trigger: str
    tier: str
    streak_min: int | None
    streak_max: int | None
    threshold: Decimal | None
    subject: str
    measure: str
    body: str
    active: bool
    order: int
    note: str


def _unique(rows: list[Any], key: Callable[[Any], Any], column: str, report: ImportReport) -> None:
    seen: dict[Any, int] = {}
    for row in rows:
        k = key(row)
        if k in seen:
            report.add(row.line, column, f"与第 {seen[k]} 行重复")
        else:
            seen[k] = row.line


def check_items(
    table: Table, unit_codes: set[str], report: ImportReport, *, drop_unknown_units: bool = False
) -> list[ItemRow]:
    """Item rows; ``drop_unknown_units`` blanks supervisor codes that do not exist (sample loading)."""
    out: list[ItemRow] = []
    for n, (line, cells) in enumerate(table.rows, start=1):
        row = _Row(line, cells, report)
        code = row.text("编号", 16, required=True)
        tier = row.pick("层级", TIERS)
        title = row.text("条目", 100, required=True)
        points = row.decimal("分值", required=True)
        if points is not None and points == 0:
            row.fail("分值", "不能为 0（扣分填负数，加分填正数）")
        basis = row.pick("计分方式", BASES, default="occurrence")
        measure_unit = row.text("计量单位", 10)
        cap = row.decimal("单项封顶")
        if cap is not None and cap <= 0:
            row.fail("单项封顶", "应为正数（封顶分值的绝对值），不封顶请留空")
        track = row.pick("适用对象", TRACKS, default="both")
        supervisor = row.text("监管部门编码", 32)
        if supervisor and supervisor not in unit_codes and drop_unknown_units:
            supervisor = ""
        if supervisor and supervisor not in unit_codes:
            row.fail("监管部门编码", f"单位“{supervisor}”不存在")
        order = row.integer("排序")
        if not row.failed and points is not None:
            out.append(
                ItemRow(
                    line,
                    code,
                    tier,
                    title,
                    row.text("考评内容"),
                    points,
                    basis,
                    measure_unit,
                    cap,
                    track,
                    row.text("所需证据", 200),
                    supervisor,
                    order if order is not None else n * 10,
                )
            )
    _unique(out, lambda r: r.code, "编号", report)
    return out


def check_weights(table: Table, report: ImportReport) -> list[WeightRow]:
    out: list[WeightRow] = []
    totals: dict[str, Decimal] = {}
    for line, cells in table.rows:
        row = _Row(line, cells, report)
        subject = row.pick("考评对象", SUBJECTS)
        code = row.text("指标", 40, required=True)
        if subject and code and indicators.lookup(subject, code) is None:
            known = "、".join(i.code for i in indicators.BY_SUBJECT[subject])
            row.fail("指标", f"“{code}”不是{dict(SUBJECTS)[subject]}的指标，可用：{known}")
        weight = row.decimal("权重") or Decimal(0)
        if weight < 0 or weight > 1:
            row.fail("权重", "应在 0 到 1 之间")
        target = row.decimal("目标值")
        points = row.decimal("加减分系数")
        if (target is None) != (points is None):
            row.fail("加减分系数", "目标值与加减分系数须同时填写或同时留空")
        min_base = row.integer("最少样本") or 0
        if not row.failed:
            out.append(WeightRow(line, subject, code, weight, target, points, min_base))
            totals[subject] = totals.get(subject, Decimal(0)) + weight
    _unique(out, lambda r: (r.subject, r.indicator), "指标", report)
    for subject, weight_sum in totals.items():
        if weight_sum and weight_sum != 1:
            report.add(0, "权重", f"{dict(SUBJECTS)[subject]}的权重合计为 {weight_sum}，应为 1")
    return out


def check_rules(table: Table, report: ImportReport) -> list[RuleRow]:
    out: list[RuleRow] = []
    for n, (line, cells) in enumerate(table.rows, start=1):
        row = _Row(line, cells, report)
        code = row.text("编号", 16, required=True)
        name = row.text("名称", 100, required=True)
        trigger = row.pick("触发条件", TRIGGERS)
        tier_text = row.cells.get("问题层级", "")
        tier = row.pick("问题层级", TIERS) if tier_text else ""
        streak_min = row.integer("连续末位起")
        streak_max = row.integer("连续末位止")
        threshold = row.decimal("分数线")
        subject = row.pick("适用对象", SUBJECTS) if row.cells.get("适用对象") else ""
        measure = row.pick("追责措施", MEASURES)
        body = row.pick("跟进机构", BODIES)
        if trigger in {"finding_tier", "double_check"} and not tier:
            row.fail("问题层级", "按问题层级触发的规则须填写问题层级")
        if trigger == "last_place":
            if not streak_min:
                row.fail("连续末位起", "连续末位规则须填写起始期数（≥1）")
            elif streak_max is not None and streak_max < streak_min:
                row.fail("连续末位止", "不能小于连续末位起")
        if trigger == "score_below" and threshold is None:
            row.fail("分数线", "得分低于规则须填写分数线")
        active = row.flag("启用", True)
        order = row.integer("排序")
        if not row.failed:
            out.append(
                RuleRow(
                    line,
                    code,
                    name,
                    trigger,
                    tier,
                    streak_min,
                    streak_max,
                    threshold,
                    subject,
                    measure,
                    body,
                    active,
                    order if order is not None else n * 10,
                    row.text("说明", 200),
                )
            )
    _unique(out, lambda r: r.code, "编号", report)
    return out
