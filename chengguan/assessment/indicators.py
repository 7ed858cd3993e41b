"""Indicators as plain formulas (after GB/T 30428.4 and district practice; see docs/assessment.md).

Nothing here touches the database. The selectors count, per subject and in one query per
family, the numerators and denominators named below; :func:`evaluate` turns those counts into
values with the formula text shown beside each figure, and :func:`normalise` maps a value to
the 0–100 scale the composite index (综合指标值) weighs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum


class Kind(StrEnum):
    RATE = "rate"  # numerator / denominator, shown as a percentage
    COUNT = "count"  # a plain count
    DENSITY = "density"  # count per grid or per km²


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    kind: Kind
    formula: str  # the formula as the docs and the pages show it
    numerator: str  # key in the counts mapping
    denominator: str = ""  # key in the counts mapping ("" for counts)
    higher_is_better: bool = True
    scale: Callable[[Decimal], Decimal] | None = None  # custom 0–100 normalisation


def case_count_score(count: Decimal) -> Decimal:
    """立案数分值 (fewer cases score higher): ≤50→100, ≤100→90, ≤200→75, ≤500→60, ≤1000→40, else 0."""
    for limit, score in ((50, 100), (100, 90), (200, 75), (500, 60), (1000, 40)):
        if count <= limit:
            return Decimal(score)
    return Decimal(0)


def overdue_score(count: Decimal) -> Decimal:
    """超期数分值: 100 − 5 per overdue case, not below 0."""
    return max(Decimal(0), Decimal(100) - 5 * count)


def density_score(per_grid: Decimal) -> Decimal:
    """每网格立案数分值 (一类区域 thresholds): 0→100, <3→90, <5→75, <7→60, <9→40, else 0."""
    if per_grid == 0:
        return Decimal(100)
    for limit, score in ((3, 90), (5, 75), (7, 60), (9, 40)):
        if per_grid < limit:
            return Decimal(score)
    return Decimal(0)


def _i(
    code: str,
    name: str,
    kind: Kind,
    formula: str,
    numerator: str,
    denominator: str = "",
    higher: bool = True,
    scale: Callable[[Decimal], Decimal] | None = None,
) -> Indicator:
    return Indicator(code, name, kind, formula, numerator, denominator, higher, scale)


R, C, D = Kind.RATE, Kind.COUNT, Kind.DENSITY

# Departments: cases dispatched to them as lead unit (主办单位), reported in the period.
DEPARTMENTAL: tuple[Indicator, ...] = (
    _i(
        "dispatched",
        "派遣数（应处置数）",
        C,
        "本期上报并派遣给本单位主办的案件数",
        "dispatched",
        scale=case_count_score,
    ),
    _i("handling_rate", "处置率", R, "处置数 / 应处置数", "handled", "dispatched"),
    _i("on_time_rate", "按期处置率", R, "按期处置数 / 应处置数", "on_time", "dispatched"),
    _i("closure_rate", "结案率", R, "结案数 / 应处置数", "closed", "dispatched"),
    _i("rework_rate", "返工率", R, "返工案件数 / 应处置数", "reworked", "dispatched", higher=False),
    _i("extension_rate", "延期率", R, "延期案件数 / 应处置数", "extended", "dispatched", higher=False),
    _i(
        "return_rate",
        "回退率（误派）",
        R,
        "本期回退次数 / 本期派遣次数",
        "returns",
        "dispatch_events",
        higher=False,
    ),
    _i(
        "overdue",
        "超期数",
        C,
        "超期处置数 + 期末超期未处置数",
        "overdue",
        higher=False,
        scale=overdue_score,
    ),
    _i("satisfaction_rate", "满意率", R, "满意（4–5 星）评价数 / 评价数", "satisfied", "rated"),
)

# Towns and subdistricts: registered cases located in their territory, reported in the period.
TERRITORIAL: tuple[Indicator, ...] = (
    _i("registered", "立案数", C, "本期上报并立案、位于本辖区的案件数", "registered"),
    _i(
        "per_grid",
        "每单元网格立案数",
        D,
        "立案数 / 单元网格数",
        "registered",
        "grids",
        higher=False,
        scale=density_score,
    ),
    _i("per_km2", "每平方公里立案数", D, "立案数 / 辖区面积（km²）", "registered", "km2", higher=False),
    _i("closure_rate", "结案率", R, "结案数 / 立案数", "closed", "registered"),
    _i("on_time_rate", "按期处置率", R, "按期处置数 / 立案数", "on_time", "registered"),
    _i("self_found_share", "自查发现占比", R, "本辖区人员巡查上报数 / 立案数", "self_found", "registered"),
    _i(
        "recurrence_rate",
        "复发率",
        R,
        "同一单元网格同类问题结案后 N 天内再次立案数 / 立案数",
        "recurred",
        "registered",
        higher=False,
    ),
    _i(
        "public_report_rate",
        "监督举报率",
        R,
        "市民举报（网页、热线、Open311、媒体）立案数 / 立案数",
        "public",
        "registered",
        higher=False,
    ),
)

# Posts: what each person did in the period, from the case history.
INSPECTOR: tuple[Indicator, ...] = (
    _i("reports", "上报数", C, "本期巡查上报案件数", "reports"),
    _i("valid_report_rate", "有效上报率", R, "立案数 / 上报数", "valid_reports", "reports"),
    _i("verify_on_time_rate", "按时核实率", R, "按时核实数 / 核实数", "verify_on_time", "verifies"),
    _i("check_on_time_rate", "按时核查率", R, "按时核查数 / 核查数", "check_on_time", "checks"),
)
OPERATOR: tuple[Indicator, ...] = (
    _i("accepted", "受理数", C, "派发核实与派发核查次数", "accepted"),
    _i(
        "send_verify_on_time_rate",
        "按时派发核实率",
        R,
        "按时派发核实数 / 派发核实数",
        "send_verify_on_time",
        "send_verifies",
    ),
    _i(
        "send_check_on_time_rate",
        "按时派发核查率",
        R,
        "按时派发核查数 / 派发核查数",
        "send_check_on_time",
        "send_checks",
    ),
)
SHIFT_LEADER: tuple[Indicator, ...] = (
    _i("registrations", "立案数", C, "本期立案次数", "registrations"),
    _i("register_on_time_rate", "按时立案率", R, "按时立案数 / 立案数", "register_on_time", "registrations"),
    _i(
        "accurate_register_rate",
        "准确立案率",
        R,
        "(立案数 − 其后作废数) / 立案数",
        "accurate_registrations",
        "registrations",
    ),
    _i("close_on_time_rate", "按时结案率", R, "按时结案数 / 结案数", "close_on_time", "closes"),
)
DISPATCHER: tuple[Indicator, ...] = (
    _i("dispatches", "派遣数", C, "本期派遣次数", "dispatches"),
    _i("dispatch_on_time_rate", "按时派遣率", R, "按时派遣数 / 派遣数", "dispatch_on_time", "dispatches"),
    _i(
        "accurate_dispatch_rate",
        "准确派遣率",
        R,
        "(派遣数 − 期末前被回退数) / 派遣数",
        "accurate_dispatches",
        "dispatches",
    ),
)

BY_SUBJECT: dict[str, tuple[Indicator, ...]] = {
    "territorial": TERRITORIAL,
    "departmental": DEPARTMENTAL,
    "inspector": INSPECTOR,
    "operator": OPERATOR,
    "shift_leader": SHIFT_LEADER,
    "dispatcher": DISPATCHER,
}


def lookup(subject: str, code: str) -> Indicator | None:
    for indicator in BY_SUBJECT.get(subject, ()):
        if indicator.code == code:
            return indicator
    return None


FOUR = Decimal("0.0001")
TWO = Decimal("0.01")


def q4(value: Decimal) -> Decimal:
    return value.quantize(FOUR, rounding=ROUND_HALF_UP)


def q2(value: Decimal) -> Decimal:
    return value.quantize(TWO, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """A decimal without trailing zeros and never in exponent form (100, 0.9, −2.5)."""
    text = format(value.normalize(), "f")
    return "0" if text in {"-0", ""} else text


@dataclass(frozen=True)
class Value:
    """An indicator's value for one subject, with the counts it came from."""

    code: str
    value: Decimal | None  # None when the denominator is 0 (no basis for a rate)
    numerator: Decimal
    denominator: Decimal | None

    def shown(self, kind: Kind) -> str:
        if self.value is None:
            return "—"
        if kind is Kind.RATE:
            return f"{q2(self.value * 100)}%"
        return str(q2(self.value)) if kind is Kind.DENSITY else fmt(self.value)

    def as_json(self) -> dict[str, str | None]:
        return {
            "value": None if self.value is None else str(self.value),
            "num": str(self.numerator),
            "den": None if self.denominator is None else str(self.denominator),
        }


def _dec(value: object) -> Decimal:
    if value is None:
        return Decimal(0)
    return value if isinstance(value, Decimal) else Decimal(str(value))


def evaluate(indicator: Indicator, counts: Mapping[str, object]) -> Value:
    numerator = _dec(counts.get(indicator.numerator))
    if not indicator.denominator:
        return Value(indicator.code, numerator, numerator, None)
    denominator = _dec(counts.get(indicator.denominator))
    if denominator == 0:
        return Value(indicator.code, None, numerator, denominator)
    return Value(indicator.code, q4(numerator / denominator), numerator, denominator)


def evaluate_all(subject: str, counts: Mapping[str, object]) -> dict[str, Value]:
    return {i.code: evaluate(i, counts) for i in BY_SUBJECT[subject]}


def normalise(indicator: Indicator, value: Decimal) -> Decimal:
    """The 0–100 score of a value for the composite index."""
    if indicator.scale is not None:
        return indicator.scale(value)
    if indicator.kind is Kind.RATE:
        score = value * 100 if indicator.higher_is_better else (1 - value) * 100
        return max(Decimal(0), min(Decimal(100), score))
    return max(Decimal(0), min(Decimal(100), value))


def composite(subject: str, weights: Mapping[str, Decimal], values: Mapping[str, Value]) -> Decimal | None:
    """综合指标值 = Σ wᵢ × scoreᵢ / Σ wᵢ over indicators with a value; None when none has one."""
    total_weight = Decimal(0)
    total = Decimal(0)
    for code, weight in weights.items():
        indicator = lookup(subject, code)
        value = values.get(code)
        if indicator is None or weight <= 0 or value is None or value.value is None:
            continue
        total_weight += weight
        total += weight * normalise(indicator, value.value)
    if total_weight == 0:
        return None
    return q2(total / total_weight)


@dataclass(frozen=True)
class IndicatorPoints:
    points: Decimal
    formula: str


def indicator_points(
    value: Value, points: Decimal | None, target: Decimal | None, min_base: int = 0
) -> IndicatorPoints | None:
    """Points = coefficient × (value − target); None when the rule gives no points."""
    if points is None or target is None or value.value is None:
        return None
    if value.denominator is not None and value.denominator < min_base:
        return None
    result = q2(points * (value.value - target))
    if result == 0:
        return None
    formula = f"{fmt(points)} × ({fmt(value.value)} − {fmt(target)}) = {fmt(result)}"
    return IndicatorPoints(result, formula)
