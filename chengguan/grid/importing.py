"""Turn the features of one file per level into grid cells: codes, names, parents, territories.

No database here: the service reads the files, hands over the known territories as a plain
mapping, and saves what comes out. Problems found while assembling (missing or repeated
codes, a parent named in the file that does not exist) become issues of the validation
report, so the clerk gets one report for the whole import.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from chengguan.grid.geometry import repaired
from chengguan.grid.readers import FeatureSet, GridFileError
from chengguan.grid.validation import LEVEL_NAMES, CellInput, Issue, Severity

_BLANK = {"", "none", "null", "nan", "-"}


@dataclass(frozen=True)
class FieldMap:
    """Which attribute holds what, for one level's file."""

    code: str | None = None  # None: codes are generated from the parent's code
    name: str | None = None
    parent: str | None = None  # None: the parent is found by location
    territory: str | None = None


@dataclass
class PreparedCell:
    level: int
    code: str
    name: str
    geometry: BaseGeometry
    parent: int | None
    territory_id: int | None
    properties: dict[str, Any]
    source: str

    def as_input(self, parent_ref: str = "") -> CellInput:
        return CellInput(
            self.level, self.code, self.name, self.geometry, self.parent, self.source, parent_ref
        )


@dataclass
class Assembled:
    cells: list[PreparedCell]
    issues: list[Issue] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    parent_refs: dict[int, str] = field(default_factory=dict)  # cell index → parent named in the file

    def validation_inputs(self) -> list[CellInput]:
        return [c.as_input(self.parent_refs.get(i, "")) for i, c in enumerate(self.cells)]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return "" if text.lower() in _BLANK else text


def assemble(
    levels: Mapping[int, FeatureSet],
    fields: Mapping[int, FieldMap],
    *,
    territories: Mapping[str, int] | None = None,
    county_code: str = "",
) -> Assembled:
    """Build cells from the files of each level (level → features).

    ``territories`` maps territory codes and names to their ids, to link management grids
    (or any level with a territory field) to towns/subdistricts.
    """
    territories = territories or {}
    out = Assembled([])
    present = sorted(levels)
    for level in present:
        if level not in LEVEL_NAMES:
            raise GridFileError(f"网格层级应为 1–4（管理、责任、区域、单元），而不是 {level}。")
        fmap = fields.get(level, FieldMap())
        fs = levels[level]
        for name in (fmap.code, fmap.name, fmap.parent, fmap.territory):
            if name and name not in fs.fields:
                raise GridFileError(
                    f"文件 {_short(fs.path)} 中没有字段「{name}」。"
                    f"文件中的字段有：{'、'.join(fs.fields) or '（无）'}。"
                )
    for n, level in enumerate(present):
        above = present[n - 1] if n > 0 else None
        _assemble_level(
            out, level, above, levels[level], fields.get(level, FieldMap()), territories, county_code
        )
    return out


def _short(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _assemble_level(
    out: Assembled,
    level: int,
    above: int | None,
    fs: FeatureSet,
    fmap: FieldMap,
    territories: Mapping[str, int],
    county_code: str,
) -> None:
    label = LEVEL_NAMES[level]
    parents = [i for i, c in enumerate(out.cells) if c.level == above] if above is not None else []
    by_code = {out.cells[i].code: i for i in parents}
    name_counts = Counter(out.cells[i].name for i in parents)
    by_name = {out.cells[i].name: i for i in parents if name_counts[out.cells[i].name] == 1}
    spatial = (
        _spatial_parents(fs, [out.cells[i].geometry for i in parents])
        if parents and not fmap.parent
        else None
    )

    raw_codes = [_text(f.properties.get(fmap.code)) if fmap.code else "" for f in fs.features]
    counts = Counter(c for c in raw_codes if c)
    seen: Counter[str] = Counter()
    generated: Counter[int | None] = Counter()
    existing = {c.code for c in out.cells}
    reported_dupes: set[str] = set()
    for k, feature in enumerate(fs.features):
        where = f"{_short(fs.path)} 第 {feature.number} 个要素"
        name = _text(feature.properties.get(fmap.name)) if fmap.name else ""
        parent: int | None = None
        parent_ref = ""
        if above is not None:
            if fmap.parent:
                parent_ref = _text(feature.properties.get(fmap.parent))
                parent = by_code.get(parent_ref, by_name.get(parent_ref)) if parent_ref else None
            elif spatial is not None and spatial[k] >= 0:
                parent = parents[spatial[k]]
        code = raw_codes[k]
        if fmap.code and not code:
            code = f"缺编码{level}-{feature.number}"
            out.issues.append(
                Issue(
                    "missing_code",
                    Severity.ERROR,
                    f"{label}「{name or where}」缺少编码（{where}），已临时编为 {code}。",
                    level,
                    [code],
                )
            )
        elif not fmap.code:
            generated[parent] += 1
            code = _generated_code(
                level, out.cells[parent].code if parent is not None else county_code, generated[parent]
            )
        elif counts[code] > 1:
            seen[code] += 1
            if code not in reported_dupes:
                reported_dupes.add(code)
                holders = [
                    _text(f.properties.get(fmap.name)) if fmap.name else str(f.number)
                    for f, c in zip(fs.features, raw_codes, strict=True)
                    if c == code
                ]
                out.issues.append(
                    Issue(
                        "duplicate_code",
                        Severity.ERROR,
                        f"编码 {code} 在 {_short(fs.path)} 中被 {counts[code]} 个{label}重复使用："
                        f"{'、'.join(holders)}；"
                        f"除第一个外已临时改为 {code}#2 等。",
                        level,
                        [code],
                    )
                )
            if seen[code] > 1:
                code = f"{code}#{seen[code]}"
        if code in existing:
            # The same code at another level: codes must be unique across the whole grid.
            out.issues.append(
                Issue(
                    "duplicate_code",
                    Severity.ERROR,
                    f"{label}「{name or where}」的编码 {code} 与其他层级的网格重复（{where}），"
                    f"已临时改为 {code}#{level}。",
                    level,
                    [code],
                )
            )
            code = f"{code}#{level}"
        existing.add(code)
        territory_id: int | None = None
        if fmap.territory:
            territory_id = territories.get(_text(feature.properties.get(fmap.territory)))
        elif parent is not None:
            territory_id = out.cells[parent].territory_id
        elif level == min(LEVEL_NAMES) or above is None:
            territory_id = territories.get(code) or territories.get(name)
        index = len(out.cells)
        out.cells.append(
            PreparedCell(
                level, code, name or code, feature.geometry, parent, territory_id, feature.properties, where
            )
        )
        if parent_ref and parent is None:
            out.parent_refs[index] = parent_ref
    if not fmap.code:
        out.notes.append(f"{label}文件没有指定编码字段，编码已按上级编码加顺序号自动生成。")


def _generated_code(level: int, parent_code: str, seq: int) -> str:
    if level == 3:
        return f"{parent_code}-{seq:02d}"
    return f"{parent_code}{seq:03d}"


def _spatial_parents(fs: FeatureSet, parent_geoms: Sequence[BaseGeometry]) -> np.ndarray:
    """For each feature, the parent candidate it overlaps most (-1 when none)."""
    parents = np.array([repaired(g) for g in parent_geoms], dtype=object)
    children = np.array([repaired(f.geometry) for f in fs.features], dtype=object)
    tree = shapely.STRtree(parents)
    pairs = tree.query(children, predicate="intersects")
    best = np.full(len(children), -1, dtype=np.int64)
    if pairs.shape[1] == 0:
        return best
    overlap = shapely.area(shapely.intersection(children[pairs[0]], parents[pairs[1]]))
    best_area = np.zeros(len(children))
    for child, parent, area in zip(pairs[0].tolist(), pairs[1].tolist(), overlap.tolist(), strict=True):
        if area > best_area[child] or (area == best_area[child] and area > 0 and parent < best[child]):
            best_area[child] = area
            best[child] = parent
    return best
