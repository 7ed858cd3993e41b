"""Rules of the component inventory (部件普查), without the database.

A component's identifier is 17 digits: the 6-digit county code, the 5-digit category code
(2 major + 3 minor, GB/T 47678.5) and a 6-digit sequence. The standard's own database
check is ``left(id, 6) = 区划`` and ``substr(id, 7, 5) = type``; the same is enforced here
for every row before anything is written.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chengguan.core.tabular import RowError
from chengguan.grid.readers import PointFeature

CODE = re.compile(r"^\d{17}$")
STATES = {"完好": "intact", "破损": "damaged", "丢失": "lost", "废弃": "scrapped", "移除": "removed"}
STATE_VALUES = set(STATES.values())


@dataclass(frozen=True)
class ComponentFields:
    category: str
    code: str | None = None  # None: identifiers are numbered per category
    name: str | None = None
    state: str | None = None
    owner: str | None = None
    maintainer: str | None = None
    address: str | None = None


@dataclass
class PlannedComponent:
    number: int
    code: str
    category_id: int
    name: str
    state: str
    owner_id: int | None
    maintainer_id: int | None
    address: str
    lon: float
    lat: float
    properties: dict[str, Any]


@dataclass
class ComponentPlan:
    rows: list[PlannedComponent] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def messages(self) -> list[str]:
        """Errors as a clerk reads them: features are counted, not lines."""
        return [
            f"第 {e.row} 个要素" + (f"「{e.field}」" if e.field else "") + f"：{e.message}"
            for e in self.errors
        ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def plan_components(
    points: Sequence[PointFeature],
    fields: ComponentFields,
    *,
    county_code: str,
    categories: Mapping[str, int],
    units: Mapping[str, int],
    last_sequence: Mapping[str, int],
) -> ComponentPlan:
    """Check every point and turn it into a component row; errors name the feature.

    ``categories`` maps 5-digit component category codes to ids, ``units`` unit codes and
    names to ids, ``last_sequence`` the highest 6-digit sequence already used per category
    (to number new identifiers after it).
    """
    plan = ComponentPlan()
    next_seq = dict(last_sequence)
    codes = [_text(p.properties.get(fields.code)) for p in points] if fields.code else []
    repeated = {c for c, n in Counter(codes).items() if c and n > 1}
    for k, point in enumerate(points):
        row, errors = point.number, plan.errors
        category_code = _text(point.properties.get(fields.category))
        category_id = categories.get(category_code)
        if category_id is None:
            errors.append(
                RowError(
                    row,
                    fields.category,
                    f"部件类别「{category_code or '（空）'}」不在部件目录中（应为 5 位部件类别码）",
                )
            )
        if fields.code:
            code = codes[k]
            if not CODE.match(code):
                errors.append(RowError(row, fields.code, f"部件标识码「{code or '（空）'}」应为 17 位数字"))
            else:
                if not code.startswith(county_code):
                    errors.append(
                        RowError(row, fields.code, f"部件标识码 {code} 的前 6 位应为本区县代码 {county_code}")
                    )
                if category_code and code[6:11] != category_code:
                    errors.append(
                        RowError(
                            row, fields.code, f"部件标识码 {code} 的第 7–11 位应为类别码 {category_code}"
                        )
                    )
            if code in repeated:
                errors.append(RowError(row, fields.code, f"部件标识码 {code} 在文件中重复"))
        else:
            next_seq[category_code] = next_seq.get(category_code, 0) + 1
            if next_seq[category_code] > 999_999:
                errors.append(RowError(row, fields.category, f"类别 {category_code} 的顺序码已用完"))
            code = f"{county_code}{category_code}{next_seq[category_code]:06d}"
        state_text = _text(point.properties.get(fields.state)) if fields.state else ""
        state = (
            STATES.get(state_text, state_text if state_text in STATE_VALUES else None)
            if state_text
            else "intact"
        )
        if state is None:
            errors.append(
                RowError(row, fields.state or "", f"状态「{state_text}」应为 完好、破损、丢失、废弃 或 移除")
            )
        ids: dict[str, int | None] = {}
        for attr in ("owner", "maintainer"):
            name = getattr(fields, attr)
            text = _text(point.properties.get(name)) if name else ""
            ids[attr] = units.get(text) if text else None
            if text and ids[attr] is None:
                errors.append(RowError(row, name or "", f"单位「{text}」不在单位名录中"))
        if category_id is not None and state is not None:
            plan.rows.append(
                PlannedComponent(
                    row,
                    code,
                    category_id,
                    _text(point.properties.get(fields.name)) if fields.name else "",
                    state,
                    ids["owner"],
                    ids["maintainer"],
                    _text(point.properties.get(fields.address)) if fields.address else "",
                    point.lon,
                    point.lat,
                    point.properties,
                )
            )
    return plan
