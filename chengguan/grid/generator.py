"""Generate a valid four-level grid over any district boundary (the 万米单元网格 method).

How the grid is built, and why:

* **Unit grids** start from a regular lattice of ~100 m squares aligned with longitude and
  latitude: an equirectangular local projection whose standard parallel is the district's
  centre latitude. Over a district (±0.3° of latitude) the cells stay within half a percent
  of 10,000 m², and because the lattice lines are lines of constant longitude/latitude, a
  point is found in its square by two divisions (see :mod:`chengguan.grid.locator`).
* Squares are clipped to each **territory** (town/subdistrict) polygon, so unit grids follow
  territory borders. Pieces smaller than ``min_piece_fraction`` of a square are merged into
  the neighbouring piece of the same territory sharing the longest border, so no sliver
  cells are left along borders.
* **Area grids** (区域网格) group unit grids by blocks of ``area_block``² squares and
  **responsibility grids** (责任网格) group area grids by ``resp_block``² blocks, always
  within one territory; groups far smaller than a block are merged into a neighbour.
  **Management grids** (管理网格) are the territories. Each parent's geometry is the union
  of its children, so the levels nest exactly.
* Codes follow GB/T 30428.1: unit grids 6-digit county + 3-digit subdistrict +
  3-digit community (the responsibility grid) + 3-digit sequence; management grids the
  first 9 digits, responsibility grids the first 12; area grids, which the standard does
  not code, take their responsibility grid's 12 digits, a dash and a 2-digit sequence.

With no territory polygons the district can be split into N territories deterministically
(Voronoi cells of seeded, k-means-balanced points, clipped to the boundary) — that is what
the demo district uses, since no public subdistrict polygons exist for 红山区.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
import shapely.errors
from shapely.geometry.base import BaseGeometry

from chengguan.grid.geometry import lattice_edges, metres_per_degree, polygonal, repaired
from chengguan.grid.validation import CellInput

GENERATOR_VERSION = 2  # part of the demo fingerprint: a change regenerates the demo grid


class GeneratorError(ValueError):
    """The grid cannot be generated from this input; the message says why."""


@dataclass(frozen=True)
class GeneratorParams:
    unit_size_m: float = 100.0
    area_block: int = 5  # unit squares per side of an area grid
    resp_block: int = 4  # area blocks per side of a responsibility grid
    min_piece_fraction: float = 0.3
    min_group_fraction: float = 0.25

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit_size_m": self.unit_size_m,
            "area_block": self.area_block,
            "resp_block": self.resp_block,
            "min_piece_fraction": self.min_piece_fraction,
            "min_group_fraction": self.min_group_fraction,
            "version": GENERATOR_VERSION,
        }


@dataclass
class TerritoryInput:
    key: Any  # what the caller uses to identify it (an OrgUnit id, a code …)
    code3: str  # the 3-digit subdistrict part of the codes
    name: str
    geometry: BaseGeometry | None = None  # None: filled by the Voronoi split


@dataclass(frozen=True)
class Lattice:
    lon0: float
    lat0: float
    dlon: float
    dlat: float
    nx: int
    ny: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "lon0": self.lon0,
            "lat0": self.lat0,
            "dlon": self.dlon,
            "dlat": self.dlat,
            "nx": self.nx,
            "ny": self.ny,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lattice:
        return cls(
            float(data["lon0"]),
            float(data["lat0"]),
            float(data["dlon"]),
            float(data["dlat"]),
            int(data["nx"]),
            int(data["ny"]),
        )

    @property
    def xs(self) -> np.ndarray:
        return lattice_edges(self.lon0, self.dlon, self.nx)

    @property
    def ys(self) -> np.ndarray:
        return lattice_edges(self.lat0, self.dlat, self.ny)


@dataclass
class GeneratedCell:
    level: int
    code: str
    name: str
    geometry: BaseGeometry
    parent: int | None  # index into GeneratedGrid.cells
    territory: Any  # TerritoryInput.key


@dataclass
class GeneratedGrid:
    cells: list[GeneratedCell]
    lattice: Lattice
    boundary: BaseGeometry
    territories: list[TerritoryInput]
    notes: list[str] = field(default_factory=list)

    def count(self, level: int) -> int:
        return sum(1 for c in self.cells if c.level == level)

    def validation_inputs(self) -> list[CellInput]:
        return [CellInput(c.level, c.code, c.name, c.geometry, c.parent) for c in self.cells]


Step = Callable[[str], None]


def _no_step(message: str) -> None:
    return None


def split_into_territories(boundary: BaseGeometry, count: int, *, seed: int = 2004) -> list[BaseGeometry]:
    """Split a district into ``count`` compact pieces, the same way every time.

    Seeded points inside the boundary are grouped by k-means (so the pieces come out of
    similar size) and the Voronoi cells of the group centres, clipped to the boundary, are
    the pieces, ordered north to south, then west to east.
    """
    boundary = repaired(boundary)
    if count < 1:
        raise GeneratorError("镇街数量至少为 1。")
    if count == 1:
        return [boundary]
    minx, miny, maxx, maxy = boundary.bounds
    mlon, mlat = metres_per_degree((miny + maxy) / 2)
    rng = np.random.default_rng(seed)
    samples = rng.uniform((minx, miny), (maxx, maxy), size=(max(4000, 400 * count), 2))
    samples = samples[shapely.contains_xy(boundary, samples[:, 0], samples[:, 1])]
    if len(samples) < count * 10:
        raise GeneratorError("辖区面积太小，无法划分为这么多个镇街。")
    scaled = samples * (mlon, mlat)  # k-means and Voronoi need metric distances
    centres = scaled[rng.choice(len(scaled), count, replace=False)]
    for _ in range(30):
        nearest = np.argmin(((scaled[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2), axis=1)
        for k in range(count):
            members = scaled[nearest == k]
            if len(members):
                centres[k] = members.mean(axis=0)
    order = sorted(range(count), key=lambda k: (-round(centres[k][1], -2), centres[k][0]))
    centres = centres[order]
    box = shapely.box(minx * mlon - 1e4, miny * mlat - 1e4, maxx * mlon + 1e4, maxy * mlat + 1e4)
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(centres), extend_to=box, ordered=True)
    )
    pieces = []
    for cell in cells:
        back = shapely.transform(cell, lambda xy: xy / (mlon, mlat))
        piece = polygonal(shapely.intersection(boundary, back))
        pieces.append(piece if piece is not None else shapely.Polygon())
    return pieces


def _normalise_territories(
    boundary: BaseGeometry, territories: Sequence[TerritoryInput], notes: list[str]
) -> list[BaseGeometry]:
    """Make the territory polygons an exact partition of the boundary.

    Real territory files overlap and leave slivers along shared borders. An overlap goes to
    the territory listed first; a part of the district no territory covers goes to the
    territory it shares the longest border with. Both are reported in the notes.
    """
    taken = shapely.Polygon()
    pieces: list[BaseGeometry] = []
    overlap_total = 0.0
    for t in territories:
        if t.geometry is None:
            raise GeneratorError(f"镇街「{t.name}」没有边界。")
        own = polygonal(shapely.intersection(repaired(t.geometry), boundary)) or shapely.Polygon()
        if own.is_empty:
            raise GeneratorError(f"镇街「{t.name}」的边界与辖区边界没有重叠。")
        clipped = polygonal(shapely.difference(own, taken)) or shapely.Polygon()
        overlap_total += own.area - clipped.area
        pieces.append(clipped)
        taken = shapely.union(taken, clipped)
    rest = polygonal(shapely.difference(boundary, taken))
    mlon, mlat = metres_per_degree(boundary.centroid.y)
    unassigned = 0.0
    if rest is not None:
        for part in shapely.get_parts(rest):
            unassigned += part.area
            shared = [
                shapely.length(shapely.intersection(part.boundary, p.boundary)) if not p.is_empty else 0.0
                for p in pieces
            ]
            best = (
                int(np.argmax(shared))
                if max(shared) > 0
                else int(np.argmin([part.distance(p) for p in pieces]))
            )
            pieces[best] = shapely.union(pieces[best], part)
    if overlap_total * mlon * mlat >= 1:
        notes.append(f"镇街边界相互重叠约 {overlap_total * mlon * mlat:,.0f} 平方米，重叠处归列在前的镇街。")
    if unassigned * mlon * mlat >= 1:
        notes.append(f"约 {unassigned * mlon * mlat:,.0f} 平方米辖区不在任何镇街边界内，已并入相邻镇街。")
    empty = [t.name for t, p in zip(territories, pieces, strict=True) if p.is_empty]
    if empty:
        raise GeneratorError(f"镇街「{'、'.join(empty)}」的边界完全被列在前面的镇街覆盖。")
    return pieces


# Parts smaller than this (m²) are rounding debris where a territory border grazes the
# district boundary; they are dropped, leaving holes far below any validation tolerance.
SPECK_M2 = 0.0005  # below the validator's noise level (0.001 m²), so the holes never show


def _without_specks(geom: BaseGeometry | None, min_area: float) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    parts = [p for p in shapely.get_parts(geom) if p.area >= min_area]
    if not parts:
        return None
    if len(parts) == len(shapely.get_parts(geom)):
        return geom
    return parts[0] if len(parts) == 1 else shapely.MultiPolygon(parts)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, child: int, target: int) -> None:
        self.parent[self.find(child)] = self.find(target)


@dataclass
class _Piece:
    territory: int
    row: int
    col: int
    geometry: BaseGeometry
    area: float  # m², local scale: only compared with other pieces


def _merge_union(geoms: Sequence[BaseGeometry]) -> BaseGeometry:
    if len(geoms) == 1:
        return geoms[0]
    try:
        merged = shapely.coverage_union_all(np.asarray(geoms, dtype=object))
    except shapely.errors.GEOSException:
        merged = None
    if merged is None or not merged.is_valid or merged.geom_type not in ("Polygon", "MultiPolygon"):
        # Clipped pieces can disagree by a rounding error along a shared edge, which the
        # fast coverage union refuses; the robust overlay union is slower but always right.
        merged = repaired(shapely.union_all(geoms))
    return merged


def generate_grid(
    boundary: BaseGeometry,
    territories: Sequence[TerritoryInput],
    *,
    county_code: str,
    params: GeneratorParams | None = None,
    step: Step = _no_step,
) -> GeneratedGrid:
    """Build the four levels over ``boundary`` (WGS-84) split into ``territories``.

    Territories without geometry are laid out by :func:`split_into_territories`.
    """
    params = params or GeneratorParams()
    if not (len(county_code) == 6 and county_code.isdigit()):
        raise GeneratorError(f"区县代码应为 6 位数字（GB/T 2260），而不是「{county_code}」。")
    if not territories:
        raise GeneratorError("至少需要一个镇街。")
    codes = [t.code3 for t in territories]
    if len(set(codes)) != len(codes) or not all(len(c) == 3 and c.isdigit() for c in codes):
        raise GeneratorError("镇街的 3 位街道码必须是互不相同的 3 位数字。")
    boundary = repaired(boundary)
    if boundary.is_empty:
        raise GeneratorError("辖区边界为空。")
    notes: list[str] = []
    territories = list(territories)
    if all(t.geometry is None for t in territories):
        for t, piece in zip(territories, split_into_territories(boundary, len(territories)), strict=True):
            t.geometry = piece
    territory_geoms = _normalise_territories(boundary, territories, notes)
    step(f"镇街边界就绪：{len(territories)} 个")

    minx, miny, maxx, maxy = boundary.bounds
    mlon, mlat = metres_per_degree((miny + maxy) / 2)
    dlon, dlat = params.unit_size_m / mlon, params.unit_size_m / mlat
    # The lattice is anchored on whole multiples of the step so it does not shift when the
    # boundary is edited slightly.
    lon0, lat0 = math.floor(minx / dlon) * dlon, math.floor(miny / dlat) * dlat
    nx, ny = math.ceil((maxx - lon0) / dlon) + 1, math.ceil((maxy - lat0) / dlat) + 1
    lattice = Lattice(lon0, lat0, dlon, dlat, nx, ny)
    xs, ys = lattice.xs, lattice.ys
    scale = mlon * mlat
    nominal = params.unit_size_m**2

    pieces: list[_Piece] = []
    for t_index, geom in enumerate(territory_geoms):
        shapely.prepare(geom)
        gx0, gy0, gx1, gy1 = geom.bounds
        c0, c1 = max(0, int((gx0 - lon0) // dlon)), min(nx - 1, int((gx1 - lon0) // dlon))
        r0, r1 = max(0, int((gy0 - lat0) // dlat)), min(ny - 1, int((gy1 - lat0) // dlat))
        col_grid, row_grid = np.meshgrid(np.arange(c0, c1 + 1), np.arange(r0, r1 + 1))
        cols, rows = col_grid.ravel(), row_grid.ravel()
        boxes = shapely.box(xs[cols], ys[rows], xs[cols + 1], ys[rows + 1])
        full = shapely.covers(geom, boxes)
        cut = shapely.intersects(geom, boxes) & ~full
        for r, c, b in zip(rows[full].tolist(), cols[full].tolist(), boxes[full], strict=True):
            pieces.append(_Piece(t_index, r, c, b, nominal))
        if cut.any():
            clipped = shapely.intersection(boxes[cut], geom)
            for r, c, g in zip(rows[cut].tolist(), cols[cut].tolist(), clipped, strict=True):
                poly = _without_specks(polygonal(g), SPECK_M2 / scale)
                if poly is None:
                    continue  # touches the territory along an edge only
                pieces.append(_Piece(t_index, r, c, poly, poly.area * scale))
        step(f"单元格切分：{territories[t_index].name} 完成（累计 {len(pieces):,} 块）")
    if not pieces:
        raise GeneratorError("辖区太小，连一个单元网格都划分不出来。")

    # Merge pieces cut small by a border into a neighbour of the same territory.
    at: dict[tuple[int, int, int], int] = {(p.territory, p.row, p.col): i for i, p in enumerate(pieces)}
    uf = _UnionFind(len(pieces))
    group_area = [p.area for p in pieces]
    small = sorted(
        (i for i, p in enumerate(pieces) if p.area < params.min_piece_fraction * nominal),
        key=lambda i: (pieces[i].area, pieces[i].row, pieces[i].col),
    )
    for i in small:
        root = uf.find(i)
        if group_area[root] >= params.min_piece_fraction * nominal:
            continue  # something merged into it already made it big enough
        p = pieces[i]
        best: tuple[float, float, int] | None = None
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            j = at.get((p.territory, p.row + dr, p.col + dc))
            if j is None or uf.find(j) == root:
                continue
            shared = shapely.length(shapely.intersection(p.geometry.boundary, pieces[j].geometry.boundary))
            if shared <= 0:
                continue
            key = (shared, group_area[uf.find(j)], -j)
            if best is None or key > best:
                best = key
        if best is not None:
            target = uf.find(-best[2])
            uf.union(root, target)
            group_area[target] += group_area[root]
    members: dict[int, list[int]] = defaultdict(list)
    for i in range(len(pieces)):
        members[uf.find(i)].append(i)
    units = []  # (territory, home_row, home_col, [piece indices])
    for idx in members.values():
        home = max(idx, key=lambda k: (pieces[k].area, -pieces[k].row, -pieces[k].col))
        units.append((pieces[home].territory, pieces[home].row, pieces[home].col, sorted(idx)))
    step(f"单元网格：{len(units):,} 个（合并了 {len(pieces) - len(units):,} 块边角）")

    unit_of_piece = {}
    for u, (_, _, _, idx) in enumerate(units):
        for k in idx:
            unit_of_piece[k] = u
    adjacency: dict[int, set[int]] = defaultdict(set)
    for k, p in enumerate(pieces):
        for dr, dc in ((1, 0), (0, 1)):
            j = at.get((p.territory, p.row + dr, p.col + dc))
            if j is not None and unit_of_piece[j] != unit_of_piece[k]:
                adjacency[unit_of_piece[k]].add(unit_of_piece[j])
                adjacency[unit_of_piece[j]].add(unit_of_piece[k])
    unit_area = [sum(pieces[k].area for k in idx) for (_, _, _, idx) in units]

    ab, rb = params.area_block, params.area_block * params.resp_block
    resp_key = [(t, r // rb, c // rb) for (t, r, c, _) in units]
    resp_of = _grouped(
        resp_key,
        unit_area,
        adjacency,
        params.min_group_fraction * nominal * rb * rb,
        max_members=999,
        same=lambda a, b: resp_key[a][0] == resp_key[b][0],
    )
    area_key = [(resp_of[u], r // ab, c // ab) for u, (_, r, c, _) in enumerate(units)]
    area_of = _grouped(
        area_key,
        unit_area,
        adjacency,
        params.min_group_fraction * nominal * ab * ab,
        max_members=10**9,
        same=lambda a, b: resp_of[a] == resp_of[b],
    )

    return _assemble(
        units,
        pieces,
        resp_of,
        area_of,
        territories,
        territory_geoms,
        county_code,
        lattice,
        boundary,
        notes,
        step,
    )


def _grouped(
    keys: Sequence[tuple[Any, int, int]],
    weights: Sequence[float],
    adjacency: dict[int, set[int]],
    min_weight: float,
    *,
    max_members: int,
    same: Callable[[int, int], bool],
) -> list[tuple[Any, int, int]]:
    """Group units by key; fold groups lighter than ``min_weight`` into their best neighbour.

    The best neighbour is the group of the same parent with the most unit-to-unit
    contacts; groups are visited lightest first so results do not depend on dict order.
    """
    group_of = list(keys)
    weight: dict[Any, float] = defaultdict(float)
    size: dict[Any, int] = defaultdict(int)
    units_in: dict[Any, list[int]] = defaultdict(list)
    for u, key in enumerate(keys):
        weight[key] += weights[u]
        size[key] += 1
        units_in[key].append(u)
    for key in sorted(list(units_in), key=lambda k: (weight[k], str(k))):
        if weight[key] >= min_weight or key not in units_in:
            continue
        contacts: dict[Any, int] = defaultdict(int)
        for u in units_in[key]:
            for v in adjacency.get(u, ()):
                other = group_of[v]
                if other != key and same(u, v):
                    contacts[other] += 1
        candidates = [k for k in contacts if size[k] + size[key] <= max_members]
        if not candidates:
            continue
        target = max(candidates, key=lambda k: (contacts[k], weight[k], str(k)))
        for u in units_in.pop(key):
            group_of[u] = target
            units_in[target].append(u)
        weight[target] += weight.pop(key)
        size[target] += size.pop(key)
    return group_of


def _assemble(
    units: list[tuple[int, int, int, list[int]]],
    pieces: list[_Piece],
    resp_of: list[tuple[Any, int, int]],
    area_of: list[tuple[Any, int, int]],
    territories: list[TerritoryInput],
    territory_geoms: list[BaseGeometry],
    county_code: str,
    lattice: Lattice,
    boundary: BaseGeometry,
    notes: list[str],
    step: Step,
) -> GeneratedGrid:
    """Number the groups north-west first and build the cells of the four levels."""

    def reading_order(rows_cols: list[tuple[int, int]]) -> tuple[int, int]:
        top = max(r for r, _ in rows_cols)
        return (-top, min(c for r, c in rows_cols if r == top))

    unit_geoms = [
        _merge_union([pieces[k].geometry for k in idx]) if len(idx) > 1 else pieces[idx[0]].geometry
        for (_, _, _, idx) in units
    ]
    cells: list[GeneratedCell] = []
    resp_units: dict[tuple[Any, int, int], list[int]] = defaultdict(list)
    for u, key in enumerate(resp_of):
        resp_units[key].append(u)
    by_territory: dict[int, list[tuple[Any, int, int]]] = defaultdict(list)
    for key in resp_units:
        by_territory[key[0]].append(key)
    for t_index, territory in enumerate(territories):
        keys = sorted(
            by_territory.get(t_index, []),
            key=lambda k: reading_order([(units[u][1], units[u][2]) for u in resp_units[k]]),
        )
        if len(keys) > 999:
            raise GeneratorError(f"镇街「{territory.name}」的责任网格超过 999 个，请增大网格块尺寸。")
        t_code = county_code + territory.code3
        mgmt_index = len(cells)
        cells.append(
            GeneratedCell(
                1, t_code, f"{territory.name}管理网格", territory_geoms[t_index], None, territory.key
            )
        )
        resp_geoms = []
        for r_seq, rkey in enumerate(keys, start=1):
            r_code = f"{t_code}{r_seq:03d}"
            r_index = len(cells)
            cells.append(
                GeneratedCell(
                    2,
                    r_code,
                    f"{territory.name}第{r_seq}责任网格",
                    shapely.Polygon(),
                    mgmt_index,
                    territory.key,
                )
            )
            members = resp_units[rkey]
            areas: dict[tuple[Any, int, int], list[int]] = defaultdict(list)
            for u in members:
                areas[area_of[u]].append(u)
            area_keys = sorted(
                areas, key=lambda k: reading_order([(units[u][1], units[u][2]) for u in areas[k]])
            )
            if len(area_keys) > 99:
                raise GeneratorError(f"责任网格 {r_code} 的区域网格超过 99 个，请调整网格块尺寸。")
            unit_seq = 0
            area_geoms = []
            for a_seq, akey in enumerate(area_keys, start=1):
                a_code = f"{r_code}-{a_seq:02d}"
                a_index = len(cells)
                cells.append(
                    GeneratedCell(
                        3,
                        a_code,
                        f"{territory.name}区域网格{r_seq:03d}-{a_seq:02d}",
                        shapely.Polygon(),
                        r_index,
                        territory.key,
                    )
                )
                geoms = []
                for u in sorted(areas[akey], key=lambda u: (-units[u][1], units[u][2])):
                    unit_seq += 1
                    geoms.append(unit_geoms[u])
                    cells.append(
                        GeneratedCell(
                            4,
                            f"{r_code}{unit_seq:03d}",
                            f"{territory.name}单元网格{r_seq:03d}-{unit_seq:03d}",
                            unit_geoms[u],
                            a_index,
                            territory.key,
                        )
                    )
                cells[a_index].geometry = _merge_union(geoms)
                area_geoms.append(cells[a_index].geometry)
            if unit_seq > 999:
                raise GeneratorError(f"责任网格 {r_code} 的单元网格超过 999 个，请调整网格块尺寸。")
            cells[r_index].geometry = _merge_union(area_geoms)
            resp_geoms.append(cells[r_index].geometry)
        if resp_geoms:
            cells[mgmt_index].geometry = _merge_union(resp_geoms)
        step(f"编码与合并：{territory.name} 完成")
    return GeneratedGrid(cells, lattice, boundary, list(territories), notes)
