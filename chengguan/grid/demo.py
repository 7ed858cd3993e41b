"""The demo district's grid: a generated four-level grid over the real boundary of 红山区.

``chengguan demo`` calls :func:`build_demo_grid` with the demo's towns/subdistricts. The
district is split among them with seeded Voronoi cells (no public subdistrict polygons
exist for 红山区) and covered with ~50,000 unit grids of ~10,000 m². A second call with the
same territories finds the layer it made by its fingerprint and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.conf import settings

from chengguan.core.progress import Progress
from chengguan.grid.generator import GeneratorParams, TerritoryInput, generate_grid
from chengguan.grid.geometry import to_wkb
from chengguan.grid.models import GridCell, GridLayer, LayerSource, LayerStatus
from chengguan.grid.readers import read_boundary
from chengguan.grid.services import GridServiceError, save_generated
from chengguan.grid.validation import validate
from chengguan.org.models import OrgUnit

DATA_DIR = Path(__file__).resolve().parent / "data"
DEMO_BOUNDARY = DATA_DIR / "hongshan_150402_wgs84.geojson"
DEMO_NAME = "红山区演示网格"


def territory_code3(unit: OrgUnit, position: int, county_code: str) -> str:
    """The 3-digit subdistrict part of grid codes for a territory.

    A territory whose code is a statistical code of this county (e.g. ``150402001`` or
    ``150402001000``) keeps its own three digits; otherwise territories are numbered in
    code order from 001.
    """
    code = unit.code.strip()
    if code.isdigit() and len(code) >= 9 and code.startswith(county_code):
        return code[6:9]
    return f"{position:03d}"


def _territory_inputs(territories: Sequence[OrgUnit], county_code: str) -> list[TerritoryInput]:
    ordered = sorted(territories, key=lambda t: t.code)
    inputs = [
        TerritoryInput(t.pk, territory_code3(t, i, county_code), t.name)
        for i, t in enumerate(ordered, start=1)
    ]
    if len({t.code3 for t in inputs}) != len(inputs):
        # Mixed or repeated statistical codes: fall back to plain numbering.
        inputs = [TerritoryInput(t.pk, f"{i:03d}", t.name) for i, t in enumerate(ordered, start=1)]
    return inputs


def _fingerprint(
    boundary_wkb: bytes, territories: list[TerritoryInput], county: str, params: GeneratorParams
) -> str:
    payload = json.dumps(
        {
            "boundary": hashlib.sha256(boundary_wkb).hexdigest(),
            "territories": [(t.key, t.code3, t.name) for t in territories],
            "county": county,
            "params": params.as_dict(),
        },
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _summary(layer: GridLayer, created: bool, started: float) -> dict[str, Any]:
    counts = {level: GridCell.objects.filter(layer=layer, level=level).count() for level in (1, 2, 3, 4)}
    return {
        "layer_id": layer.pk,
        "name": layer.name,
        "created": created,
        "cells": counts,
        "unit_cells": counts[4],
        "errors": layer.error_count,
        "warnings": layer.warning_count,
        "seconds": round(time.monotonic() - started, 1),
    }


def build_demo_grid(
    progress: Progress, territories: list[OrgUnit], *, params: GeneratorParams | None = None
) -> dict[str, Any]:
    """Generate and activate the demo grid unless the same one is already active.

    ``params`` is for tests, which use bigger cells to stay fast; the demo uses the
    standard ~100 m unit grids.
    """
    started = time.monotonic()
    county = settings.CHENGGUAN_DISTRICT_CODE
    params = params or GeneratorParams()
    boundary = read_boundary(DEMO_BOUNDARY)
    inputs = _territory_inputs(territories, county) or [TerritoryInput(None, "001", "红山区")]
    fingerprint = _fingerprint(to_wkb(boundary), inputs, county, params)
    existing = GridLayer.objects.filter(fingerprint=fingerprint, status=LayerStatus.ACTIVE).first()
    if existing is not None:
        progress.step(f"网格：演示网格已存在（版本 #{existing.pk}），未做修改")
        return _summary(existing, False, started)
    with progress.stage("网格：生成红山区四级网格"):
        grid = generate_grid(boundary, inputs, county_code=county, params=params, step=progress.step)
    with progress.stage(f"网格：校验 {len(grid.cells):,} 个网格"):
        report = validate(grid.validation_inputs(), boundary=boundary)
    if not report.ok:
        # A generated grid must be clean; anything else is a bug worth stopping for.
        raise GridServiceError("演示网格校验未通过：" + report.summary())
    with progress.stage("网格：写入数据库并启用"):
        outcome = save_generated(
            grid,
            report,
            name=DEMO_NAME,
            source=LayerSource.DEMO,
            territory_ids={t.key: t.key for t in inputs},
            fingerprint=fingerprint,
            progress=progress,
        )
    assert outcome.layer is not None
    summary = _summary(outcome.layer, True, started)
    c = summary["cells"]
    progress.step(f"网格：管理 {c[1]} 个、责任 {c[2]} 个、区域 {c[3]:,} 个、单元 {c[4]:,} 个")
    return summary
