"""Validation of a grid: full coverage, no overlap, correct nesting, sound geometry.

The seed asks for a grid "with full coverage, no overlap, no crossing". This module checks
a set of cells (any levels) against that, optionally against the district boundary, and
writes a report a clerk can act on: what is wrong, how much (m²), where (longitude/latitude
and the neighbouring cells), and which cells are involved.

Severities: an *error* blocks activating the grid unless the user accepts the report; a
*warning* (slivers under the area tolerance, code format) is listed but does not block.

Overlays run on longitude/latitude scaled to metres (see ``PlanarFrame``), the geometry the
locator uses, so m² of problems are within half a percent; level totals are exact
equal-area figures.
Pieces smaller than ``Tolerances.noise_m2`` are floating-point noise of the overlay and are
not reported at all; pieces between that and ``Tolerances.area_m2`` are slivers (warnings);
larger ones are errors.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from chengguan.core.progress import Progress
from chengguan.grid.geometry import (
    GeomArray,
    PlanarFrame,
    areas_m2,
    describe_place,
    geojson_geometry,
    repaired,
)

LEVEL_NAMES = {1: "管理网格", 2: "责任网格", 3: "区域网格", 4: "单元网格"}
UNIT_LEVEL = 4
UNIT_CODE = re.compile(r"^[0-9A-Z]{15}$")


class Severity:
    ERROR = "error"
    WARNING = "warning"


KIND_LABELS = {
    "invalid_geometry": "几何图形无效",
    "empty_geometry": "几何图形为空",
    "missing_code": "缺少编码",
    "duplicate_code": "编码重复",
    "code_format": "编码格式不符",
    "code_prefix": "编码与上级不一致",
    "missing_parent": "缺少上级网格",
    "gap": "缝隙",
    "overlap": "重叠",
    "outside_parent": "超出上级网格",
    "parent_not_covered": "上级网格未被覆盖",
    "outside_boundary": "超出辖区边界",
    "sliver": "细小碎片",
}


@dataclass(frozen=True)
class Tolerances:
    noise_m2: float = 0.001  # overlay round-off, never reported
    area_m2: float = 1.0  # gaps, overlaps and nesting defects from this size on are errors
    sliver_width_m: float = 0.5  # a cell part thinner than this on average is a sliver


@dataclass
class CellInput:
    """One cell as the validator sees it: no database, just what is needed to judge it."""

    level: int
    code: str
    name: str
    geometry: BaseGeometry  # WGS-84
    parent: int | None = None  # index of the parent in the same list
    source: str = ""  # where it came from, e.g. "communities.geojson 第 12 个要素"
    parent_ref: str = ""  # the parent as the file names it, when it could not be found

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code}）" if self.name and self.name != self.code else self.code


@dataclass
class Issue:
    kind: str
    severity: str
    message: str
    level: int | None = None
    cells: list[str] = field(default_factory=list)
    area_m2: float | None = None
    lon: float | None = None
    lat: float | None = None
    geometry: dict[str, Any] | None = None  # GeoJSON of the problem area, drawn on the map

    @property
    def label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass
class Report:
    issues: list[Issue] = field(default_factory=list)
    levels: dict[int, dict[str, float]] = field(default_factory=dict)  # level → count, area_m2
    tolerances: Tolerances = field(default_factory=Tolerances)
    boundary_area_m2: float | None = None

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == Severity.ERROR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == Severity.WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def of_kind(self, kind: str) -> list[Issue]:
        return [i for i in self.issues if i.kind == kind]

    def add(self, issue: Issue) -> None:
        self.issues.append(issue)

    def counts(self) -> dict[str, int]:
        return dict(Counter(i.kind for i in self.issues))

    def to_dict(self) -> dict[str, Any]:
        return {
            "issues": [asdict(i) for i in self.issues],
            "levels": {str(k): v for k, v in self.levels.items()},
            "tolerances": asdict(self.tolerances),
            "boundary_area_m2": self.boundary_area_m2,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            issues=[Issue(**i) for i in data.get("issues", [])],
            levels={int(k): v for k, v in data.get("levels", {}).items()},
            tolerances=Tolerances(**data.get("tolerances", {})),
            boundary_area_m2=data.get("boundary_area_m2"),
        )

    def summary(self) -> str:
        if not self.issues:
            return "校验通过：全覆盖、无重叠、无缝隙、上下级嵌套正确。"
        parts = [f"{KIND_LABELS.get(k, k)} {n} 处" for k, n in sorted(self.counts().items())]
        head = f"发现 {len(self.errors)} 个错误、{len(self.warnings)} 个警告"
        return f"{head}：" + "，".join(parts) + "。"

    def format_text(self, limit_per_kind: int = 30) -> str:
        """The report as a clerk reads it in the terminal."""
        lines = ["网格校验报告", "=" * 12]
        for level, stats in sorted(self.levels.items()):
            lines.append(
                f"{LEVEL_NAMES.get(level, f'第{level}级')}：{int(stats['count'])} 个，"
                f"总面积 {stats['area_m2'] / 1e6:,.3f} 平方公里"
            )
        if self.boundary_area_m2 is not None:
            lines.append(f"辖区边界面积 {self.boundary_area_m2 / 1e6:,.3f} 平方公里")
        t = self.tolerances
        lines.append(
            f"容差：{t.area_m2:g} 平方米以下的缝隙/重叠记为细小碎片（警告）；"
            f"平均宽度不足 {t.sliver_width_m:g} 米的网格部分记为碎片。"
        )
        lines.append("")
        lines.append(self.summary())
        by_kind: dict[str, list[Issue]] = defaultdict(list)
        for issue in self.issues:
            by_kind[issue.kind].append(issue)
        for kind in KIND_LABELS:
            items = by_kind.get(kind)
            if not items:
                continue
            severity = "错误" if items[0].severity == Severity.ERROR else "警告"
            lines.append("")
            lines.append(f"【{KIND_LABELS[kind]}】{len(items)} 处（{severity}）")
            ordered = sorted(items, key=lambda i: -(i.area_m2 or 0.0))
            for n, issue in enumerate(ordered[:limit_per_kind], start=1):
                lines.append(f"  {n}. {issue.message}")
            if len(items) > limit_per_kind:
                lines.append(f"  …… 另有 {len(items) - limit_per_kind} 处，完整清单见网页报告。")
        return "\n".join(lines)


def _fmt_area(area: float) -> str:
    if area >= 1e6:
        return f"{area / 1e6:,.3f} 平方公里"
    if area >= 1:
        return f"{area:,.1f} 平方米"
    return f"{area:.3f} 平方米"


class _Context:
    """The projected geometries and lookups every check shares."""

    def __init__(self, cells: Sequence[CellInput], boundary: BaseGeometry | None, tol: Tolerances) -> None:
        self.cells = cells
        self.tol = tol
        raw = np.array([c.geometry for c in cells], dtype=object)
        self.frame = PlanarFrame.around(raw if len(raw) else np.array([boundary], dtype=object))
        self.raw = raw
        self.valid = np.array([repaired(g) for g in raw], dtype=object) if len(raw) else raw
        self.metric: GeomArray = self.frame.project(self.valid) if len(raw) else raw
        shapely.prepare(self.metric)
        self.areas = np.asarray(shapely.area(self.metric), dtype=float) if len(raw) else np.zeros(0)
        self.boundary = self.frame.project(repaired(boundary)) if boundary is not None else None
        if self.boundary is not None:
            shapely.prepare(self.boundary)
        self.by_level: dict[int, np.ndarray] = {}
        for level in sorted({c.level for c in cells}):
            self.by_level[level] = np.array(
                [i for i, c in enumerate(cells) if c.level == level], dtype=np.int64
            )
        self.trees: dict[int, shapely.STRtree] = {}

    def tree(self, level: int) -> shapely.STRtree:
        if level not in self.trees:
            self.trees[level] = shapely.STRtree(self.metric[self.by_level[level]])
        return self.trees[level]

    def place(self, piece: BaseGeometry) -> tuple[float, float]:
        point = piece.point_on_surface() if not piece.is_empty else piece.centroid
        return self.frame.to_lonlat(point.x, point.y)

    def drawable(self, piece: BaseGeometry) -> dict[str, Any] | None:
        # Small problem areas are drawn as they are; the map needs only their shape.
        geom = self.frame.unproject(piece)
        if shapely.get_num_coordinates(geom) > 2000:
            geom = geom.simplify(1e-5)
        return geojson_geometry(geom)

    def neighbours(self, level: int, piece: BaseGeometry, limit: int = 4) -> list[int]:
        idx = self.by_level[level]
        hits = self.tree(level).query(piece.buffer(0.01), predicate="intersects")
        found = sorted(int(idx[h]) for h in hits)
        return found[:limit]

    def names(self, indices: Sequence[int]) -> str:
        return "、".join(self.cells[i].label for i in indices)

    def severity(self, area: float) -> str:
        return Severity.ERROR if area >= self.tol.area_m2 else Severity.WARNING

    def pieces(self, geom: BaseGeometry) -> list[BaseGeometry]:
        if geom is None or geom.is_empty:
            return []
        parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon"]
        return [p for p in parts if p.area >= self.tol.noise_m2]


def validate(
    cells: Sequence[CellInput],
    *,
    boundary: BaseGeometry | None = None,
    tolerances: Tolerances | None = None,
    progress: Progress | None = None,
) -> Report:
    """Check a grid and return the report; never raises for bad data, it reports it."""
    tol = tolerances or Tolerances()
    report = Report(tolerances=tol)
    if not cells:
        report.add(Issue("empty_geometry", Severity.ERROR, "网格中没有任何网格单元。"))
        return report
    ctx = _Context(cells, boundary, tol)
    if ctx.boundary is not None:
        report.boundary_area_m2 = float(areas_m2([repaired(boundary)])[0]) if boundary is not None else None
    exact = areas_m2(ctx.valid)
    for level, idx in ctx.by_level.items():
        report.levels[level] = {"count": float(len(idx)), "area_m2": float(exact[idx].sum())}

    def step(message: str) -> None:
        if progress is not None:
            progress.step(message)

    _check_geometry(ctx, report)
    _check_codes(ctx, report)
    step("校验：几何与编码检查完成")
    overlap_cells: set[int] = set()
    gap_regions: dict[int, BaseGeometry | None] = {}
    for level in ctx.by_level:
        overlap_cells |= _check_overlaps(ctx, report, level)
        gap_regions[level] = _check_gaps(ctx, report, level, overlap_cells)
        _check_slivers(ctx, report, level)
        step(f"校验：{LEVEL_NAMES.get(level, level)}重叠、缝隙、碎片检查完成")
    _check_nesting(ctx, report, overlap_cells, gap_regions)
    step("校验：上下级嵌套检查完成")
    return report


def _check_geometry(ctx: _Context, report: Report) -> None:
    reasons = shapely.is_valid_reason(ctx.raw)
    for i, (cell, reason) in enumerate(zip(ctx.cells, reasons, strict=True)):
        if cell.geometry.is_empty or ctx.areas[i] <= 0:
            report.add(
                Issue(
                    "empty_geometry",
                    Severity.ERROR,
                    f"{cell.label} 的几何图形为空或面积为零。",
                    cell.level,
                    [cell.code],
                    0.0,
                )
            )
            continue
        if reason == "Valid Geometry":
            continue
        where = _reason_place(reason)
        plain = _REASONS.get(reason.split("[")[0].strip(), reason.split("[")[0].strip())
        place = f"，位置 {describe_place(*where)}" if where else ""
        report.add(
            Issue(
                "invalid_geometry",
                Severity.ERROR,
                f"{cell.label} 的多边形无效：{plain}{place}。请在 GIS 软件中修复（如“修复几何”）后重新导入。"
                + (f"（{cell.source}）" if cell.source else ""),
                cell.level,
                [cell.code],
                None,
                where[0] if where else None,
                where[1] if where else None,
                {"type": "Point", "coordinates": list(where)} if where else None,
            )
        )


_REASONS = {
    "Self-intersection": "边界自相交",
    "Ring Self-intersection": "环自相交",
    "Too few points in geometry component": "组成部分的顶点太少",
    "Interior is disconnected": "内部不连通",
    "Hole lies outside shell": "内环（洞）位于外环之外",
    "Holes are nested": "内环相互嵌套",
    "Nested shells": "外环相互嵌套",
    "Duplicate Rings": "环重复",
    "Invalid Coordinate": "坐标无效",
    "Ring is not closed": "环未闭合",
}


def _reason_place(reason: str) -> tuple[float, float] | None:
    match = re.search(r"\[([-0-9.eE+]+)\s+([-0-9.eE+]+)\]", reason)
    if not match:
        return None
    return float(match.group(1)), float(match.group(2))


def _check_codes(ctx: _Context, report: Report) -> None:
    counts = Counter(c.code for c in ctx.cells)
    seen: set[str] = set()
    for cell in ctx.cells:
        if counts[cell.code] > 1 and cell.code not in seen:
            seen.add(cell.code)
            holders = [c.label for c in ctx.cells if c.code == cell.code]
            report.add(
                Issue(
                    "duplicate_code",
                    Severity.ERROR,
                    f"编码 {cell.code} 被 {len(holders)} 个网格重复使用：{'、'.join(holders)}。",
                    cell.level,
                    [cell.code],
                )
            )
    for cell in ctx.cells:
        if cell.level == UNIT_LEVEL and not UNIT_CODE.match(cell.code):
            report.add(
                Issue(
                    "code_format",
                    Severity.WARNING,
                    f"单元网格 {cell.label} 的编码不是标准的 15 位"
                    "（6 位区划 + 3 位街道 + 3 位社区 + 3 位顺序码）。",
                    cell.level,
                    [cell.code],
                )
            )
        if cell.parent is not None:
            parent = ctx.cells[cell.parent]
            if (
                cell.code.isdigit()
                and parent.code.isdigit()
                and len(cell.code) > len(parent.code)
                and not cell.code.startswith(parent.code)
            ):
                report.add(
                    Issue(
                        "code_prefix",
                        Severity.WARNING,
                        f"{cell.label} 的编码不以上级网格 {parent.label} 的编码开头，请核对所属关系。",
                        cell.level,
                        [cell.code, parent.code],
                    )
                )


def _check_overlaps(ctx: _Context, report: Report, level: int) -> set[int]:
    """Pairs of cells of one level whose interiors overlap; returns the cells involved."""
    idx = ctx.by_level[level]
    geoms = ctx.metric[idx]
    pairs = ctx.tree(level).query(geoms, predicate="intersects")
    pairs = pairs[:, pairs[0] < pairs[1]]
    if pairs.shape[1] == 0:
        return set()
    # Neighbours share edges; only pairs whose interiors meet can overlap.
    interior = shapely.relate_pattern(geoms[pairs[0]], geoms[pairs[1]], "T********")
    pairs = pairs[:, interior]
    involved: set[int] = set()
    if pairs.shape[1] == 0:
        return involved
    overlaps = shapely.intersection(geoms[pairs[0]], geoms[pairs[1]])
    for (a, b), geom in zip(pairs.T, overlaps, strict=True):
        pieces = ctx.pieces(geom)
        area = float(sum(p.area for p in pieces))
        if area < ctx.tol.noise_m2:
            continue
        ia, ib = int(idx[a]), int(idx[b])
        involved |= {ia, ib}
        biggest = max(pieces, key=lambda p: p.area)
        lon, lat = ctx.place(biggest)
        ca, cb = ctx.cells[ia], ctx.cells[ib]
        report.add(
            Issue(
                "overlap" if area >= ctx.tol.area_m2 else "sliver",
                ctx.severity(area),
                f"{LEVEL_NAMES.get(level, '')} {ca.label} 与 {cb.label} 重叠 {_fmt_area(area)}，"
                f"位于 {describe_place(lon, lat)} 附近。",
                level,
                [ca.code, cb.code],
                area,
                lon,
                lat,
                ctx.drawable(shapely.union_all(pieces)),
            )
        )
    return involved


def _covered_area(ctx: _Context, idx: np.ndarray) -> float:
    if ctx.boundary is None:
        return float(ctx.areas[idx].sum())
    inside = shapely.covers(ctx.boundary, ctx.metric[idx])
    total = float(ctx.areas[idx][inside].sum())
    rest = idx[~inside]
    if len(rest):
        total += float(shapely.area(shapely.intersection(ctx.metric[rest], ctx.boundary)).sum())
    return total


def _check_gaps(ctx: _Context, report: Report, level: int, overlap_cells: set[int]) -> BaseGeometry | None:
    """Parts of the district no cell of this level covers. Returns the gap region (metres)."""
    idx = ctx.by_level[level]
    if ctx.boundary is not None and not (overlap_cells & set(idx.tolist())):
        # Clean coverages are the common case: if the cells inside the boundary add up to
        # the boundary's area there is no gap, and the costly union is skipped.
        inside = shapely.covers(ctx.boundary, ctx.metric[idx])
        if inside.all() and abs(float(ctx.boundary.area) - float(ctx.areas[idx].sum())) < ctx.tol.noise_m2:
            return None
    union = shapely.union_all(ctx.metric[idx])
    if ctx.boundary is not None:
        gaps = shapely.difference(ctx.boundary, union)
        outside = shapely.difference(union, ctx.boundary)
        _report_outside_boundary(ctx, report, level, outside)
    else:
        # Without a district boundary only enclosed holes are certainly gaps.
        holes = [
            shapely.Polygon(ring)
            for poly in shapely.get_parts(union)
            if poly.geom_type == "Polygon"
            for ring in poly.interiors
        ]
        gaps = shapely.union_all(holes) if holes else shapely.Polygon()
    pieces = ctx.pieces(gaps)
    for piece in pieces:
        area = float(piece.area)
        lon, lat = ctx.place(piece)
        near = ctx.neighbours(level, piece)
        around = f"，周边网格：{ctx.names(near)}" if near else ""
        report.add(
            Issue(
                "gap" if area >= ctx.tol.area_m2 else "sliver",
                ctx.severity(area),
                f"{LEVEL_NAMES.get(level, '')}缝隙 {_fmt_area(area)}，"
                f"位于 {describe_place(lon, lat)} 附近{around}。",
                level,
                [ctx.cells[i].code for i in near],
                area,
                lon,
                lat,
                ctx.drawable(piece),
            )
        )
    return shapely.union_all(pieces) if pieces else None


def _report_outside_boundary(ctx: _Context, report: Report, level: int, outside: BaseGeometry) -> None:
    for piece in ctx.pieces(outside):
        area = float(piece.area)
        lon, lat = ctx.place(piece)
        near = ctx.neighbours(level, piece)
        report.add(
            Issue(
                "outside_boundary" if area >= ctx.tol.area_m2 else "sliver",
                ctx.severity(area),
                f"{LEVEL_NAMES.get(level, '')} {ctx.names(near)} 超出辖区边界 {_fmt_area(area)}，"
                f"位于 {describe_place(lon, lat)} 附近。",
                level,
                [ctx.cells[i].code for i in near],
                area,
                lon,
                lat,
                ctx.drawable(piece),
            )
        )


def _check_slivers(ctx: _Context, report: Report, level: int) -> None:
    """Cell parts so small or thin that they are digitising leftovers, not real areas."""
    idx = ctx.by_level[level]
    for i in idx:
        geom = ctx.metric[i]
        for part in shapely.get_parts(geom):
            area = float(part.area)
            if area <= 0:
                continue
            width = 2 * area / part.length
            if area >= ctx.tol.area_m2 and width >= ctx.tol.sliver_width_m:
                continue
            cell = ctx.cells[int(i)]
            lon, lat = ctx.place(part)
            report.add(
                Issue(
                    "sliver",
                    Severity.WARNING,
                    f"{cell.label} 含细小碎片：面积 {_fmt_area(area)}，平均宽度 {width:.2f} 米，"
                    f"位于 {describe_place(lon, lat)}。",
                    level,
                    [cell.code],
                    area,
                    lon,
                    lat,
                    ctx.drawable(part),
                )
            )


def _check_nesting(
    ctx: _Context, report: Report, overlap_cells: set[int], gap_regions: dict[int, BaseGeometry | None]
) -> None:
    levels = sorted(ctx.by_level)
    for upper, lower in itertools.pairwise(levels):
        idx = ctx.by_level[lower]
        children: dict[int, list[int]] = defaultdict(list)
        with_parent: list[int] = []
        for i in idx.tolist():
            parent = ctx.cells[i].parent
            if parent is None or ctx.cells[parent].level != upper:
                cell = ctx.cells[i]
                report.add(
                    Issue(
                        "missing_parent",
                        Severity.ERROR,
                        f"{LEVEL_NAMES.get(lower, '')} {cell.label} "
                        f"没有所属的{LEVEL_NAMES.get(upper, '上级网格')}"
                        + (f"（文件中写的上级「{cell.parent_ref}」不存在）" if cell.parent_ref else "")
                        + (f"（{cell.source}）" if cell.source else "")
                        + "。",
                        lower,
                        [cell.code],
                    )
                )
                continue
            children[parent].append(i)
            with_parent.append(i)
        suspicious: set[int] = set()
        if with_parent:
            kids = np.array(with_parent, dtype=np.int64)
            parents = np.array([ctx.cells[i].parent for i in with_parent], dtype=np.int64)
            inside = shapely.covers(ctx.metric[parents], ctx.metric[kids])
            outside_area = np.zeros(len(kids))
            todo = np.flatnonzero(~inside)
            if len(todo):
                diffs = shapely.difference(ctx.metric[kids[todo]], ctx.metric[parents[todo]])
                for j, diff in zip(todo.tolist(), diffs, strict=True):
                    pieces = ctx.pieces(diff)
                    area = float(sum(p.area for p in pieces))
                    outside_area[j] = area
                    if area < ctx.tol.noise_m2:
                        continue
                    child, parent = ctx.cells[int(kids[j])], ctx.cells[int(parents[j])]
                    suspicious.add(int(parents[j]))
                    lon, lat = ctx.place(max(pieces, key=lambda p: p.area))
                    report.add(
                        Issue(
                            "outside_parent" if area >= ctx.tol.area_m2 else "sliver",
                            ctx.severity(area),
                            f"{LEVEL_NAMES.get(lower, '')} {child.label} 有 {_fmt_area(area)} 超出其上级 "
                            f"{parent.label}，"
                            f"位于 {describe_place(lon, lat)} 附近。",
                            lower,
                            [child.code, parent.code],
                            area,
                            lon,
                            lat,
                            ctx.drawable(shapely.union_all(pieces)),
                        )
                    )
            # Children inside their parent that add up to its area cover it, unless some of
            # them overlap each other: only the doubtful parents get the exact (costly) test.
            covered: dict[int, float] = defaultdict(float)
            for j, (kid, parent) in enumerate(zip(kids.tolist(), parents.tolist(), strict=True)):
                covered[parent] += float(ctx.areas[kid]) - outside_area[j]
                if kid in overlap_cells:
                    suspicious.add(parent)
        else:
            covered = defaultdict(float)
        gap_region = gap_regions.get(lower)
        for p in ctx.by_level[upper].tolist():
            if p not in suspicious and abs(float(ctx.areas[p]) - covered.get(p, 0.0)) < ctx.tol.noise_m2:
                continue
            kids_of_p = children.get(p, [])
            union = shapely.union_all(ctx.metric[kids_of_p]) if kids_of_p else shapely.Polygon()
            uncovered = shapely.difference(ctx.metric[p], union)
            if gap_region is not None and not uncovered.is_empty:
                uncovered = shapely.difference(uncovered, gap_region)  # already reported as a gap
            pieces = ctx.pieces(uncovered)
            area = float(sum(piece.area for piece in pieces))
            if area < ctx.tol.noise_m2:
                continue
            parent_cell = ctx.cells[p]
            biggest = max(pieces, key=lambda piece: piece.area)
            lon, lat = ctx.place(biggest)
            others = [
                i
                for i in ctx.neighbours(lower, biggest.buffer(-0.05) if biggest.area > 1 else biggest)
                if ctx.cells[i].parent != p
            ]
            who = f"，该处由其他上级的 {ctx.names(others)} 覆盖" if others else ""
            report.add(
                Issue(
                    "parent_not_covered" if area >= ctx.tol.area_m2 else "sliver",
                    ctx.severity(area),
                    f"{LEVEL_NAMES.get(upper, '')} {parent_cell.label} 有 {_fmt_area(area)} 未被其"
                    f"{LEVEL_NAMES.get(lower, '下级网格')}覆盖，"
                    f"最大一处位于 {describe_place(lon, lat)} 附近{who}。"
                    if kids_of_p
                    else f"{LEVEL_NAMES.get(upper, '')} {parent_cell.label} 没有任何"
                    f"{LEVEL_NAMES.get(lower, '下级网格')}。",
                    upper,
                    [parent_cell.code],
                    area,
                    lon,
                    lat,
                    ctx.drawable(shapely.union_all(pieces)),
                )
            )
