"""Point-location speed of the grid locator: ``python -m bench.grid_locate``.

Two grids, built in memory (no database):

* the demo district — the real 红山区 boundary with the generated four-level grid of about
  50,000 unit cells of ~10,000 m² (what ``chengguan demo`` stores);
* an irregular grid of the same size — 50,000 Voronoi cells over the same boundary, where
  no lattice helps and the locator falls back on its generic raster;
* an imported irregular grid — the 5 subdistricts and 176 communities of 苏州工业园区 from
  the reference data beside the repository (skipped when that data is absent).

For each it prints the build time, the batch throughput for locating points to all four
levels at once (points drawn uniformly inside the district, and uniformly over its
bounding box, where half the points fall outside), the single-point latency (p50/p99/p99.9
of ``Locator.locate``), and, for comparison, a plain Shapely STRtree query on the lowest
level alone.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from pathlib import Path

import numpy as np
import shapely

from chengguan.grid.generator import TerritoryInput, generate_grid
from chengguan.grid.locator import Locator, LocatorInput
from chengguan.grid.readers import read_boundary, read_features

ROOT = Path(__file__).resolve().parent.parent
DEMO_BOUNDARY = ROOT / "chengguan" / "grid" / "data" / "hongshan_150402_wgs84.geojson"
SHARED = ROOT.parent / "shared" / "data" / "boundaries"


def demo_grid(territories: int) -> tuple[list[LocatorInput], dict | None, shapely.Geometry, str]:
    boundary = read_boundary(DEMO_BOUNDARY)
    started = time.perf_counter()
    grid = generate_grid(
        boundary,
        [TerritoryInput(i, f"{i:03d}", f"街道{i}") for i in range(1, territories + 1)],
        county_code="150402",
    )
    took = time.perf_counter() - started
    cells = [
        LocatorInput(i, c.level, c.code, c.name, c.parent, c.territory, c.geometry)
        for i, c in enumerate(grid.cells)
    ]
    counts = "/".join(str(grid.count(level)) for level in (1, 2, 3, 4))
    return cells, grid.lattice.as_dict(), boundary, f"红山区演示网格（四级 {counts}，生成 {took:.1f}s）"


def sip_grid() -> tuple[list[LocatorInput], None, shapely.Geometry, str] | None:
    streets_path, communities_path = (
        SHARED / "sip_streets_wgs84.geojson",
        SHARED / "sip_communities_wgs84.geojson",
    )
    if not (streets_path.exists() and communities_path.exists()):
        return None
    streets = read_features(streets_path).features
    communities = read_features(communities_path).features
    by_name = {str(f.properties["name"]): i for i, f in enumerate(streets)}
    cells = [
        LocatorInput(i, 1, str(f.properties["code9"]), str(f.properties["name"]), None, None, f.geometry)
        for i, f in enumerate(streets)
    ]
    for j, f in enumerate(communities):
        cells.append(
            LocatorInput(
                100 + j,
                2,
                f"{f.properties['code12']}-{j}",
                str(f.properties["name"]),
                by_name[str(f.properties["street"])],
                None,
                f.geometry,
            )
        )
    boundary = shapely.union_all([f.geometry for f in streets])
    return cells, None, boundary, "苏州工业园区导入网格（不规则，两级 5/176）"


def voronoi_grid(count: int) -> tuple[list[LocatorInput], None, shapely.Geometry, str]:
    """An irregular grid at the demo's size: Voronoi cells of random points over 红山区."""
    boundary = read_boundary(DEMO_BOUNDARY)
    x, y = sample(boundary, count, inside=True, seed=3)
    regions = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(np.column_stack([x, y])), extend_to=boundary.envelope)
    )
    clipped = shapely.intersection(regions, boundary)
    cells = [
        LocatorInput(i, 4, f"{i:06d}", str(i), None, None, g) for i, g in enumerate(clipped) if not g.is_empty
    ]
    return cells, None, boundary, f"红山区不规则网格（Voronoi 单元 {len(cells):,} 个，无规则格网可用）"


def sample(boundary: shapely.Geometry, n: int, inside: bool, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    minx, miny, maxx, maxy = boundary.bounds
    if not inside:
        return rng.uniform(minx, maxx, n), rng.uniform(miny, maxy, n)
    xs, ys = [], []
    got = 0
    while got < n:
        x, y = rng.uniform(minx, maxx, 2 * n), rng.uniform(miny, maxy, 2 * n)
        keep = shapely.contains_xy(boundary, x, y)
        xs.append(x[keep])
        ys.append(y[keep])
        got += int(keep.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def batch_rate(locator: Locator, x: np.ndarray, y: np.ndarray, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = locator.locate_many(x, y)
        times.append(time.perf_counter() - started)
        assert result.cells.shape == (len(x), 4)
    return len(x) / statistics.median(times)


def single_latency(locator: Locator, x: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    xs, ys = x.tolist(), y.tolist()
    locate = locator.locate
    for k in range(2000):  # warm up
        locate(xs[k], ys[k])
    samples = np.empty(len(xs))
    clock = time.perf_counter_ns
    gc.disable()
    try:
        for k in range(len(xs)):
            t0 = clock()
            locate(xs[k], ys[k])
            samples[k] = clock() - t0
    finally:
        gc.enable()
    p50, p99, p999 = np.percentile(samples, [50, 99, 99.9]) / 1000
    return float(p50), float(p99), float(p999)


def strtree_rate(cells: list[LocatorInput], x: np.ndarray, y: np.ndarray) -> float:
    lowest = max(c.level for c in cells)
    tree = shapely.STRtree([c.geometry for c in cells if c.level == lowest])
    points = shapely.points(x, y)
    started = time.perf_counter()
    tree.query(points, predicate="intersects")
    return len(x) / (time.perf_counter() - started)


def run(cells, lattice, boundary, name: str, points: int, singles: int, repeats: int) -> None:
    print(f"\n== {name}")
    started = time.perf_counter()
    locator = Locator(cells, lattice=lattice, boundary=boundary)
    stats = locator.stats()
    print(
        f"索引构建 {time.perf_counter() - started:.2f}s；网格 {stats['cells']:,} 个；栅格 {stats['rasters']}"
    )
    x_in, y_in = sample(boundary, points, inside=True)
    x_box, y_box = sample(boundary, points, inside=False, seed=8)
    inside = batch_rate(locator, x_in, y_in, repeats)
    box = batch_rate(locator, x_box, y_box, repeats)
    print(
        f"批量定位（四级同时）：辖区内均匀点 {inside:,.0f} 点/秒；"
        f"外包矩形均匀点（约半数在辖区外）{box:,.0f} 点/秒"
    )
    p50, p99, p999 = single_latency(locator, x_in[:singles], y_in[:singles])
    print(f"单点定位延迟：p50 {p50:.2f} µs，p99 {p99:.2f} µs，p99.9 {p999:.2f} µs（{singles:,} 次）")
    base = strtree_rate(cells, x_in[: min(points, 500_000)], y_in[: min(points, 500_000)])
    print(f"对照：Shapely STRtree 仅查最低一级 {base:,.0f} 点/秒")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2_000_000, help="批量测试的点数")
    parser.add_argument("--singles", type=int, default=200_000, help="单点测试的次数")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--territories", type=int, default=8, help="演示辖区的镇街数")
    args = parser.parse_args()
    print(f"网格定位基准（numpy {np.__version__}，shapely {shapely.__version__}）")
    run(*demo_grid(args.territories), args.points, args.singles, args.repeats)
    run(*voronoi_grid(50_000), args.points, args.singles, args.repeats)
    sip = sip_grid()
    if sip is None:
        print(f"\n== 苏州工业园区导入网格：跳过（参考数据 {SHARED} 不存在）")
    else:
        run(*sip, args.points, args.singles, args.repeats)


if __name__ == "__main__":
    main()
