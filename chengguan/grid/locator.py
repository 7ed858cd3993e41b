"""Locate points in the grid: any longitude/latitude → its four cells and its territory.

How it is fast
--------------
Each level gets a *raster*: a regular lattice of pixels over the level's extent. A pixel
that lies wholly inside one cell stores that cell; a pixel no cell touches stores "none";
only the pixels crossed by cell borders ("edge pixels") store a short list of candidate
cells, each with just the polygon edges that matter for points in that pixel. A point is
turned into a pixel by two divisions; for most points that already is the answer, and the
few in edge pixels get an exact point-in-polygon test against a handful of edges.

For a generated grid the pixels *are* the generator's ~100 m lattice squares (stored on the
layer), so every intact unit cell is one interior pixel. For an imported, irregular grid the
pixel size is chosen from the cell size (about 1/48 of a typical cell's side, capped in
memory), so again most points never reach the exact test.

Only the lowest level present is searched; the upper cells are read from its ancestors, so
the four answers are always consistent with the grid's declared hierarchy. A point that
no lowest-level cell covers is searched in the level above, and so on (an imported grid
may have gaps at one level only).

Which cell a point on a shared edge belongs to (deterministic)
-------------------------------------------------------------
A point exactly on a border belongs to the cell it would be in after an infinitesimal
step east, and on an east-west border after an infinitesimal step north — so a point on a
north-south border goes to the eastern cell, on an east-west border to the northern cell,
and a corner point to the north-eastern cell. Lattice squares are therefore half-open
([west, east) × [south, north)), and the exact test is the crossing-number test with a ray
to the east in which an edge counts when ``y1 <= y < y2`` and the point lies strictly west
of it. Every edge is evaluated in one canonical direction (from its southern end), so two
cells sharing an edge compute bit-identical crossings and a point on it is in exactly one
of them. If cells overlap (a grid accepted despite errors), the cell with the smaller code
wins.

Points outside the grid get no cell and a reason (outside the district's extent, outside
its boundary, or in a gap between cells inside the boundary).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry

from chengguan.grid.geometry import lattice_edges, metres_per_degree, repaired

LEVELS = (1, 2, 3, 4)

FOUND = 0
OUTSIDE_EXTENT = 1
OUTSIDE_BOUNDARY = 2
IN_GAP = 3

REASONS = {
    FOUND: "",
    OUTSIDE_EXTENT: "该位置不在本辖区网格范围内（超出辖区）。",
    OUTSIDE_BOUNDARY: "该位置在辖区边界之外，不属于任何网格。",
    IN_GAP: "该位置在辖区内，但处于网格之间的缝隙中，没有所属网格。请检查网格数据。",
}

# Raster codes: >= 0 a cell index, -1 no cell, <= -2 edge pixel number (-2 - code).
_NONE = -1
_OUT = -3  # returned by single-point lookups outside the raster's extent


@dataclass(frozen=True)
class LocatorInput:
    id: int
    level: int
    code: str
    name: str
    parent_id: int | None
    territory_id: int | None
    geometry: BaseGeometry  # WGS-84


@dataclass(frozen=True, slots=True)
class CellRef:
    id: int
    level: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Location:
    """The answer for one point: the cell at each level (or None) and the territory."""

    management: CellRef | None
    responsibility: CellRef | None
    area: CellRef | None
    unit: CellRef | None
    territory_id: int | None
    reason: int = FOUND

    @property
    def found(self) -> bool:
        return self.reason == FOUND

    @property
    def message(self) -> str:
        return REASONS[self.reason]

    def at(self, level: int) -> CellRef | None:
        return (self.management, self.responsibility, self.area, self.unit)[level - 1]

    @property
    def cells(self) -> tuple[CellRef | None, CellRef | None, CellRef | None, CellRef | None]:
        return (self.management, self.responsibility, self.area, self.unit)


_MISSES = {r: Location(None, None, None, None, None, r) for r in (OUTSIDE_EXTENT, OUTSIDE_BOUNDARY, IN_GAP)}


@dataclass
class BatchLocation:
    """Answers for many points at once: cell indices per level, -1 where there is none."""

    cells: npt.NDArray[np.int32]  # shape (n, 4): columns are levels 1–4
    reason: npt.NDArray[np.uint8]
    locator: Locator = field(repr=False)

    def ids(self, level: int) -> npt.NDArray[np.int64]:
        column = self.cells[:, level - 1]
        return np.where(column >= 0, self.locator.cell_ids[column], -1)

    def codes(self, level: int) -> list[str | None]:
        return [self.locator.cell_codes[i] if i >= 0 else None for i in self.cells[:, level - 1].tolist()]

    def territory_ids(self) -> npt.NDArray[np.int64]:
        lowest = self.cells.max(
            axis=1
        )  # cells are ordered by level, so the lowest level has the largest index
        return np.where(lowest >= 0, self.locator.cell_territory[lowest], -1)

    @property
    def found(self) -> npt.NDArray[np.bool_]:
        return self.reason == FOUND


def _edge_table(garr: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, ...]:
    """All non-horizontal ring edges of the given cells, each from its southern end.

    Returns (owner cell, x1, y1, y2, slope dx/dy). Horizontal edges never cross a ray
    going east, so they are dropped.
    """
    parts, part_owner = shapely.get_parts(garr[cells], return_index=True)
    polygons = shapely.get_type_id(parts) == 3
    parts, part_owner = parts[polygons], part_owner[polygons]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    same = coord_ring[1:] == coord_ring[:-1]
    a, b = coords[:-1][same], coords[1:][same]
    owner = cells[part_owner[ring_part[coord_ring[:-1][same]]]]
    keep = a[:, 1] != b[:, 1]
    a, b, owner = a[keep], b[keep], owner[keep]
    flip = a[:, 1] > b[:, 1]
    x1, y1 = np.where(flip, b[:, 0], a[:, 0]), np.where(flip, b[:, 1], a[:, 1])
    x2, y2 = np.where(flip, a[:, 0], b[:, 0]), np.where(flip, a[:, 1], b[:, 1])
    return owner, x1, y1, y2, (x2 - x1) / (y2 - y1)


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(s, s + c)`` for every pair, without a Python loop."""
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    offsets = np.repeat(np.cumsum(counts) - counts, counts)
    return np.arange(total, dtype=np.int64) - offsets + np.repeat(starts.astype(np.int64), counts)


class Raster:
    """Pixels over one level: interior pixels name their cell, edge pixels list candidates."""

    def __init__(
        self,
        geoms: Sequence[BaseGeometry],
        cell_index: np.ndarray,
        *,
        x0: float,
        y0: float,
        dx: float,
        dy: float,
        nx: int,
        ny: int,
        block: int = 8,
    ) -> None:
        self.x0, self.y0, self.dx, self.dy, self.nx, self.ny = x0, y0, dx, dy, nx, ny
        self.xs = lattice_edges(x0, dx, nx)
        self.ys = lattice_edges(y0, dy, ny)
        garr = np.asarray(geoms, dtype=object)
        shapely.prepare(garr)
        pixel, cell, covered = self._classify(garr, block)
        self._build(garr, cell_index, pixel, cell, covered)
        # Python-level views for the single-point path: item access without numpy overhead.
        self._xs_list = self.xs.tolist()
        self._ys_list = self.ys.tolist()
        self._codes_mv = self.codes.data
        self._ptr_mv = self.cand_ptr.data
        self._cell_mv = self.cand_cell.data
        self._estart_mv = self.cand_estart.data
        self._ecount_mv = self.cand_ecount.data
        self._ex1_mv = self.ex1.data
        self._ey1_mv = self.ey1.data
        self._ey2_mv = self.ey2.data
        self._esl_mv = self.eslope.data

    # -- construction -------------------------------------------------------------------
    def _pixel_span(self, bounds: np.ndarray) -> tuple[np.ndarray, ...]:
        """First and last pixel column/row whose interior a bounding box can reach.

        Searching the stored edge coordinates (not dividing) keeps a cell that ends exactly
        on a pixel edge from claiming the next pixel, which it only touches.
        """
        c0 = np.clip(np.searchsorted(self.xs, bounds[:, 0], side="right") - 1, 0, self.nx - 1)
        c1 = np.clip(np.searchsorted(self.xs, bounds[:, 2], side="left") - 1, 0, self.nx - 1)
        r0 = np.clip(np.searchsorted(self.ys, bounds[:, 1], side="right") - 1, 0, self.ny - 1)
        r1 = np.clip(np.searchsorted(self.ys, bounds[:, 3], side="left") - 1, 0, self.ny - 1)
        return (
            c0.astype(np.int64),
            np.maximum(c1, c0).astype(np.int64),
            r0.astype(np.int64),
            np.maximum(r1, r0).astype(np.int64),
        )

    def _classify(self, garr: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pixel, cell, covered) for every pixel a cell intersects.

        Blocks of ``block``² pixels are tested first: a block inside a cell makes all its
        pixels interior without testing them one by one; only blocks on a border are
        refined to pixels. Each test is a prepared GEOS predicate on a pixel box.
        """
        bounds = shapely.bounds(garr)
        c0, c1, r0, r1 = self._pixel_span(bounds)
        out_pixel: list[np.ndarray] = []
        out_cell: list[np.ndarray] = []
        out_cov: list[np.ndarray] = []
        xs, ys, nx = self.xs, self.ys, self.nx
        # Cells that are exactly one pixel (the intact squares of a generated grid) need
        # no geometric test at all.
        exact = (
            (c0 == c1)
            & (r0 == r1)
            & (bounds[:, 0] == xs[c0])
            & (bounds[:, 2] == xs[c1 + 1])
            & (bounds[:, 1] == ys[r0])
            & (bounds[:, 3] == ys[r1 + 1])
        )
        exact[exact] = np.abs(
            shapely.area(garr[exact]) - (xs[c1 + 1] - xs[c0])[exact] * (ys[r1 + 1] - ys[r0])[exact]
        ) <= (1e-9 * self.dx * self.dy)
        if exact.any():
            out_pixel.append(r0[exact] * nx + c0[exact])
            out_cell.append(np.flatnonzero(exact))
            out_cov.append(np.ones(int(exact.sum()), dtype=bool))
        rest = np.flatnonzero(~exact)
        # Level 1: blocks (or pixels directly when the cells are small).
        c0, c1, r0, r1 = c0[rest], c1[rest], r0[rest], r1[rest]
        ncols = (c1 - c0) // block + 1
        nrows = (r1 - r0) // block + 1
        counts = ncols * nrows
        cell_of = np.repeat(rest, counts)
        local = _ranges(np.zeros(len(rest), dtype=np.int64), counts)
        c0, c1, r0, r1, ncols = (np.repeat(a, counts) for a in (c0, c1, r0, r1, ncols))
        bc0 = c0 + (local % ncols) * block
        br0 = r0 + (local // ncols) * block
        bc1 = np.minimum(bc0 + block - 1, c1)
        br1 = np.minimum(br0 + block - 1, r1)
        chunk = 200_000
        refine: list[tuple[np.ndarray, ...]] = []
        for s in range(0, len(cell_of), chunk):
            sl = slice(s, s + chunk)
            cells, a0, a1, b0, b1 = cell_of[sl], bc0[sl], bc1[sl], br0[sl], br1[sl]
            boxes = shapely.box(xs[a0], ys[b0], xs[a1 + 1], ys[b1 + 1])
            hit = shapely.intersects(garr[cells], boxes)
            cov = np.zeros(len(cells), dtype=bool)
            cov[hit] = shapely.covers(garr[cells[hit]], boxes[hit])
            single = (a0 == a1) & (b0 == b1)
            # Whole blocks (or single pixels) inside the cell.
            w = a1[cov] - a0[cov] + 1
            n = w * (b1[cov] - b0[cov] + 1)
            k = _ranges(np.zeros(len(n), dtype=np.int64), n)
            col = np.repeat(a0[cov], n) + k % np.repeat(w, n)
            row = np.repeat(b0[cov], n) + k // np.repeat(w, n)
            out_pixel.append(row * nx + col)
            out_cell.append(np.repeat(cells[cov], n))
            out_cov.append(np.ones(len(k), dtype=bool))
            partial = hit & ~cov
            psingle = partial & single
            if psingle.any():
                # A cell that merely touches the pixel stays a candidate: the exact test
                # answers "outside" for it, which is cheaper than asking GEOS to rule it out.
                out_pixel.append(b0[psingle] * nx + a0[psingle])
                out_cell.append(cells[psingle])
                out_cov.append(np.zeros(int(psingle.sum()), dtype=bool))
            pmulti = partial & ~single
            if pmulti.any():
                refine.append((cells[pmulti], a0[pmulti], a1[pmulti], b0[pmulti], b1[pmulti]))
        # Level 2: pixels of the border blocks.
        for cells, a0, a1, b0, b1 in refine:
            w = a1 - a0 + 1
            n = w * (b1 - b0 + 1)
            k = _ranges(np.zeros(len(n), dtype=np.int64), n)
            pc = np.repeat(cells, n)
            col = np.repeat(a0, n) + k % np.repeat(w, n)
            row = np.repeat(b0, n) + k // np.repeat(w, n)
            for s in range(0, len(pc), chunk):
                sl = slice(s, s + chunk)
                cc, cl, rw = pc[sl], col[sl], row[sl]
                boxes = shapely.box(xs[cl], ys[rw], xs[cl + 1], ys[rw + 1])
                hit = shapely.intersects(garr[cc], boxes)
                cov = np.zeros(len(cc), dtype=bool)
                cov[hit] = shapely.covers(garr[cc[hit]], boxes[hit])
                out_pixel.append((rw * nx + cl)[hit])
                out_cell.append(cc[hit])
                out_cov.append(cov[hit])
        if not out_pixel:
            z = np.zeros(0, dtype=np.int64)
            return z, z, np.zeros(0, dtype=bool)
        return np.concatenate(out_pixel), np.concatenate(out_cell), np.concatenate(out_cov)

    def _build(
        self,
        garr: np.ndarray,
        cell_index: np.ndarray,
        pixel: np.ndarray,
        cell: np.ndarray,
        covered: np.ndarray,
    ) -> None:
        order = np.lexsort((cell, pixel))
        pixel, cell, covered = pixel[order], cell[order], covered[order]
        codes = np.full(self.nx * self.ny, _NONE, dtype=np.int32)
        if len(pixel) == 0:
            self.codes = codes
            self.cand_ptr = np.zeros(1, dtype=np.int32)
            self.cand_cell = self.cand_estart = self.cand_ecount = np.zeros(0, dtype=np.int32)
            self.ex1 = self.ey1 = self.ey2 = self.eslope = np.zeros(0)
            return
        first = np.r_[True, pixel[1:] != pixel[:-1]]
        starts = np.flatnonzero(first)
        counts = np.diff(np.r_[starts, len(pixel)])
        upix = pixel[starts]
        interior = (counts == 1) & covered[starts]
        codes[upix[interior]] = cell_index[cell[starts[interior]]]
        edge_pix = upix[~interior]
        edge_starts, edge_counts = starts[~interior], counts[~interior]
        codes[edge_pix] = -2 - np.arange(len(edge_pix), dtype=np.int32)
        self.codes = codes
        self.cand_ptr = np.r_[0, np.cumsum(edge_counts)].astype(np.int32)
        cand = _ranges(edge_starts, edge_counts)
        cand_local = cell[cand]  # position in garr
        cand_pixel = pixel[cand]
        self.cand_cell = cell_index[cand_local].astype(np.int32)
        cand_row = cand_pixel // self.nx
        cand_col = cand_pixel % self.nx
        # For each candidate (pixel, cell): the cell's edges spanning the pixel's row whose
        # eastmost point lies east of the pixel's west side — only those can cross a ray
        # going east from a point in the pixel. Edges are stored once per (cell, row),
        # sorted by eastmost x descending, so each pixel's edges are a prefix of its row's.
        owner, x1, y1, y2, slope = _edge_table(garr, np.unique(cand_local))
        r_lo = np.clip(np.searchsorted(self.ys, y1, side="right") - 1, 0, self.ny - 1)
        r_hi = np.clip(np.searchsorted(self.ys, y2, side="left") - 1, 0, self.ny - 1)
        span = np.maximum(r_hi - r_lo + 1, 0)
        edge = np.repeat(np.arange(len(x1)), span)
        row = _ranges(r_lo, span)
        needed, cand_key = np.unique(cand_local * self.ny + cand_row, return_inverse=True)
        key = owner[edge] * self.ny + row
        pos = np.searchsorted(needed, key)
        keep = (pos < len(needed)) & (needed[np.minimum(pos, len(needed) - 1)] == key)
        edge, pair_key = edge[keep], pos[keep]
        maxx = np.maximum(x1, x1 + (y2 - y1) * slope)[edge]
        west = self.xs[cand_col]
        # Rank edges' -maxx and pixels' -west together, so "same row group, -maxx < -west"
        # becomes one integer comparison and one searchsorted answers every candidate.
        values, inverse = np.unique(np.r_[-maxx, -west], return_inverse=True)
        span_m = 2 * len(values) + 2
        edge_comp = pair_key * span_m + 2 * inverse[: len(maxx)] + 1
        order = np.argsort(edge_comp, kind="stable")
        edge, edge_comp = edge[order], edge_comp[order]
        cand_comp = cand_key * span_m + 2 * inverse[len(maxx) :]
        start = np.searchsorted(edge_comp, cand_key * span_m, side="left")
        self.cand_estart = start.astype(np.int32)
        self.cand_ecount = (np.searchsorted(edge_comp, cand_comp, side="left") - start).astype(np.int32)
        self.ex1 = np.ascontiguousarray(x1[edge])
        self.ey1 = np.ascontiguousarray(y1[edge])
        self.ey2 = np.ascontiguousarray(y2[edge])
        self.eslope = np.ascontiguousarray(slope[edge])

    # -- queries ------------------------------------------------------------------------
    @property
    def edge_pixels(self) -> int:
        return len(self.cand_ptr) - 1

    def memory_bytes(self) -> int:
        arrays = (
            self.codes,
            self.cand_ptr,
            self.cand_cell,
            self.cand_estart,
            self.cand_ecount,
            self.ex1,
            self.ey1,
            self.ey2,
            self.eslope,
        )
        return sum(a.nbytes for a in arrays)

    def _index(
        self, v: np.ndarray, origin: float, step: float, edges: np.ndarray, n: int
    ) -> tuple[np.ndarray, np.ndarray]:
        inside = (v >= edges[0]) & (v < edges[n])
        k = np.floor((v - origin) / step)
        k = np.clip(np.nan_to_num(k, nan=0.0), 0, n - 1).astype(np.int64)
        # The division can land one pixel off next to a lattice line; the stored edge
        # coordinates decide, so the half-open rule holds to the last bit.
        k += (v >= edges[k + 1]) & (k < n - 1)
        k -= (v < edges[k]) & (k > 0)
        return k, inside

    def locate_many(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cell index per point (-1 none) and whether the point is inside the raster's extent."""
        col, in_x = self._index(lon, self.x0, self.dx, self.xs, self.nx)
        row, in_y = self._index(lat, self.y0, self.dy, self.ys, self.ny)
        inside = in_x & in_y
        code = np.where(inside, self.codes[row * self.nx + col], _NONE)
        result = np.where(code >= 0, code, _NONE).astype(np.int32)
        edge = np.flatnonzero(code <= -2)
        if len(edge):
            result[edge] = self._exact(lon[edge], lat[edge], -2 - code[edge])
        return result, inside

    def _exact(self, x: np.ndarray, y: np.ndarray, k: np.ndarray) -> np.ndarray:
        cs = self.cand_ptr[k].astype(np.int64)
        nc = self.cand_ptr[k + 1].astype(np.int64) - cs
        pair_point = np.repeat(np.arange(len(k)), nc)
        pair_cand = _ranges(cs, nc)
        ne = self.cand_ecount[pair_cand].astype(np.int64)
        edge_pair = np.repeat(np.arange(len(pair_cand)), ne)
        e = _ranges(self.cand_estart[pair_cand], ne)
        px, py = x[pair_point][edge_pair], y[pair_point][edge_pair]
        ey1 = self.ey1[e]
        hit = (ey1 <= py) & (py < self.ey2[e]) & (px < self.ex1[e] + (py - ey1) * self.eslope[e])
        crossings = np.bincount(edge_pair, weights=hit, minlength=len(pair_cand))
        inside = (crossings.astype(np.int64) & 1).astype(bool)
        result = np.full(len(k), _NONE, dtype=np.int32)
        hits = np.flatnonzero(inside)
        if len(hits):
            # Candidates are sorted by cell order, so the first inside one wins overlaps.
            points, first = np.unique(pair_point[hits], return_index=True)
            result[points] = self.cand_cell[pair_cand[hits[first]]]
        return result

    def locate_one(self, lon: float, lat: float) -> int:
        """Cell index, -1 for none, -3 outside the extent. Plain Python: no numpy call overhead."""
        xs, ys = self._xs_list, self._ys_list
        nx, ny = self.nx, self.ny
        if not (xs[0] <= lon < xs[nx] and ys[0] <= lat < ys[ny]):
            return _OUT
        c = int((lon - self.x0) / self.dx)
        if c >= nx:
            c = nx - 1
        if lon >= xs[c + 1]:
            c += 1
        elif lon < xs[c]:
            c -= 1
        r = int((lat - self.y0) / self.dy)
        if r >= ny:
            r = ny - 1
        if lat >= ys[r + 1]:
            r += 1
        elif lat < ys[r]:
            r -= 1
        code: int = self._codes_mv[r * nx + c]
        if code >= -1:
            return code
        k = -2 - code
        ptr = self._ptr_mv
        ex1, ey1, ey2, esl = self._ex1_mv, self._ey1_mv, self._ey2_mv, self._esl_mv
        estart, ecount = self._estart_mv, self._ecount_mv
        for j in range(ptr[k], ptr[k + 1]):
            inside = False
            s = estart[j]
            for e in range(s, s + ecount[j]):
                y1 = ey1[e]
                if y1 <= lat < ey2[e] and lon < ex1[e] + (lat - y1) * esl[e]:
                    inside = not inside
            if inside:
                cell: int = self._cell_mv[j]
                return cell
        return _NONE


class Locator:
    """The in-memory index of one grid layer. Build once, query many times (read-only)."""

    def __init__(
        self,
        cells: Sequence[LocatorInput],
        *,
        lattice: dict[str, Any] | None = None,
        boundary: BaseGeometry | None = None,
        version: Hashable = None,
        pixels_per_cell_side: int = 48,
        max_pixels: int = 4_000_000,
    ) -> None:
        self.version = version
        ordered = sorted(cells, key=lambda c: (c.level, c.code))
        self.cell_ids = np.array([c.id for c in ordered], dtype=np.int64)
        self.cell_codes = [c.code for c in ordered]
        self.cell_levels = np.array([c.level for c in ordered], dtype=np.int8)
        self.cell_territory = np.array(
            [c.territory_id if c.territory_id is not None else -1 for c in ordered], dtype=np.int64
        )
        position = {c.id: i for i, c in enumerate(ordered)}
        n = len(ordered)
        # ancestors[i, L-1] is the index of cell i's ancestor at level L (itself at its own level).
        ancestors = np.full((n + 1, 4), -1, dtype=np.int32)  # the extra last row answers "no cell"
        for i, c in enumerate(ordered):
            ancestors[i, c.level - 1] = i
            parent, seen = c.parent_id, 0
            while parent is not None and parent in position and seen < 4:
                p = position[parent]
                ancestors[i, ordered[p].level - 1] = p
                parent, seen = ordered[p].parent_id, seen + 1
        self.ancestors = ancestors
        refs = [CellRef(c.id, c.level, c.code, c.name) for c in ordered]
        self.locations: list[Location] = []
        for i, c in enumerate(ordered):
            chain = [refs[j] if j >= 0 else None for j in ancestors[i].tolist()]
            self.locations.append(Location(chain[0], chain[1], chain[2], chain[3], c.territory_id))
        self.levels = sorted({c.level for c in ordered})
        self.boundary = repaired(boundary) if boundary is not None else None
        if self.boundary is not None:
            shapely.prepare(self.boundary)
        self.nested = self._nested(ordered)
        self.rasters: list[Raster] = []  # lowest level first
        for level in reversed(self.levels):
            if self.rasters and self.nested:
                break
            idx = np.array([i for i, c in enumerate(ordered) if c.level == level], dtype=np.int32)
            geoms = [repaired(ordered[i].geometry) for i in idx.tolist()]
            if level == self.levels[-1]:
                self.rasters.append(self._raster(geoms, idx, lattice, pixels_per_cell_side, max_pixels))
            else:
                # Upper levels are only asked about points the lowest level does not cover
                # (outside the district or in its gaps): a coarser raster is plenty.
                self.rasters.append(self._raster(geoms, idx, None, 16, max_pixels // 16))

    def _nested(self, ordered: Sequence[LocatorInput]) -> bool:
        """Whether each upper cell is exactly the union of its lowest-level descendants.

        Then a point no lowest-level cell covers is in no cell at all, and the upper levels
        need no raster of their own. Compared by area (a gap and an overlap cancelling to
        a billionth is not a real risk), which costs nothing next to building rasters.
        """
        lowest = self.levels[-1] if self.levels else 0
        areas = np.asarray(
            shapely.area(np.array([repaired(c.geometry) for c in ordered], dtype=object)), dtype=float
        )
        sums = np.zeros(len(ordered))
        low = np.flatnonzero(self.cell_levels == lowest)
        for level in self.levels[:-1]:
            anc = self.ancestors[low, level - 1]
            if (anc < 0).any():
                return False
            np.add.at(sums, anc, areas[low])
        upper = np.flatnonzero(self.cell_levels != lowest)
        return bool(np.all(np.abs(sums[upper] - areas[upper]) <= 1e-9 * np.maximum(areas[upper], 1e-30)))

    @staticmethod
    def _raster(
        geoms: list[BaseGeometry],
        idx: np.ndarray,
        lattice: dict[str, Any] | None,
        per_side: int,
        max_pixels: int,
    ) -> Raster:
        if lattice is not None:
            return Raster(
                geoms,
                idx,
                x0=float(lattice["lon0"]),
                y0=float(lattice["lat0"]),
                dx=float(lattice["dlon"]),
                dy=float(lattice["dlat"]),
                nx=int(lattice["nx"]),
                ny=int(lattice["ny"]),
                block=1,
            )
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
        mlon, mlat = metres_per_degree((miny + maxy) / 2)
        width_m, height_m = (maxx - minx) * mlon, (maxy - miny) * mlat
        areas = np.asarray(shapely.area(np.asarray(geoms, dtype=object)), dtype=float) * mlon * mlat
        typical = math.sqrt(float(np.median(areas))) if len(areas) else 100.0
        pixel_m = max(typical / per_side, math.sqrt(max(width_m * height_m, 1.0) / max_pixels), 0.5)
        dx, dy = pixel_m / mlon, pixel_m / mlat
        nx = max(1, math.ceil((maxx - minx) / dx) + 1)
        ny = max(1, math.ceil((maxy - miny) / dy) + 1)
        # Blocks of 8×8 pixels first when a cell spans many pixels, so the inside of big
        # cells is filled without testing every pixel.
        block = 8 if typical / pixel_m > 12 else 1
        return Raster(geoms, idx, x0=float(minx), y0=float(miny), dx=dx, dy=dy, nx=nx, ny=ny, block=block)

    # -- single point ---------------------------------------------------------------------
    def locate(self, lon: float, lat: float) -> Location:
        """The four cells and the territory of one point (WGS-84 longitude, latitude)."""
        outside = True
        for raster in self.rasters:
            i = raster.locate_one(lon, lat)
            if i >= 0:
                return self.locations[i]
            if i != _OUT:
                outside = False
        if outside:
            return _MISSES[OUTSIDE_EXTENT]
        if self.boundary is not None and shapely.contains_xy(self.boundary, lon, lat):
            return _MISSES[IN_GAP]
        return _MISSES[OUTSIDE_BOUNDARY]

    # -- many points ------------------------------------------------------------------------
    def locate_many(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> BatchLocation:
        x = np.ascontiguousarray(lon, dtype=np.float64)
        y = np.ascontiguousarray(lat, dtype=np.float64)
        found = np.full(len(x), -1, dtype=np.int32)
        in_extent = np.zeros(len(x), dtype=bool)
        todo = np.arange(len(x))
        for raster in self.rasters:
            if not len(todo):
                break
            idx, inside = (
                raster.locate_many(x[todo], y[todo]) if len(todo) < len(x) else raster.locate_many(x, y)
            )
            found[todo] = idx
            in_extent[todo] |= inside
            todo = todo[idx < 0]
        cells = self.ancestors[found]  # found == -1 picks the extra "no cell" row
        reason = np.where(found >= 0, FOUND, np.where(in_extent, OUTSIDE_BOUNDARY, OUTSIDE_EXTENT)).astype(
            np.uint8
        )
        if self.boundary is not None:
            missed = np.flatnonzero(reason == OUTSIDE_BOUNDARY)
            if len(missed):
                gap = shapely.contains_xy(self.boundary, x[missed], y[missed])
                reason[missed[gap]] = IN_GAP
        return BatchLocation(cells, reason, self)

    def stats(self) -> dict[str, Any]:
        return {
            "cells": len(self.cell_ids),
            "levels": self.levels,
            "rasters": [
                {
                    "pixels": r.nx * r.ny,
                    "edge_pixels": r.edge_pixels,
                    "memory_mb": round(r.memory_bytes() / 2**20, 1),
                    "pixel_m": round(r.dy * metres_per_degree(r.y0)[1], 1),
                }
                for r in self.rasters
            ],
        }
