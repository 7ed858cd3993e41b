"""Reads of the grid app: the active layer, cells in a map viewport, the point locator."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from chengguan.grid.geometry import from_wkb, geojson_geometry
from chengguan.grid.locator import Location, Locator, LocatorInput
from chengguan.grid.models import GridCell, GridDuty, GridLayer, LayerStatus


def active_layer() -> GridLayer | None:
    return GridLayer.objects.filter(status=LayerStatus.ACTIVE).first()


def layer_cells(layer: GridLayer, level: int | None = None) -> QuerySet[GridCell]:
    qs = GridCell.objects.filter(layer=layer)
    return qs.filter(level=level) if level is not None else qs


def cells_in_view(
    layer: GridLayer, level: int, west: float, south: float, east: float, north: float, limit: int = 5000
) -> QuerySet[GridCell]:
    """Cells of one level whose bounding box meets the viewport (coarse, index-backed)."""
    return (
        GridCell.objects.filter(
            layer=layer,
            level=level,
            min_lon__lte=east,
            max_lon__gte=west,
            min_lat__lte=north,
            max_lat__gte=south,
        )
        .order_by("code")
        .only("id", "level", "code", "name", "geometry", "label_lon", "label_lat", "area_m2", "territory_id")[
            :limit
        ]
    )


def cells_geojson(cells: Iterable[GridCell], precision: int = 6) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": cell.pk,
                "geometry": geojson_geometry(from_wkb(cell.geometry), precision),
                "properties": {
                    "id": cell.pk,
                    "level": cell.level,
                    "code": cell.code,
                    "name": cell.name,
                    "area_m2": round(cell.area_m2, 1),
                },
            }
            for cell in cells
        ],
    }


def duties_of(cell: GridCell) -> QuerySet[GridDuty]:
    return cell.duties.select_related("staff", "department").order_by("role", "staff__name")


# -- the point locator --------------------------------------------------------------------
# One locator per process, rebuilt when the active layer or its revision changes; reading
# that pair is one indexed query, so every caller (and every app server) notices a change.
_lock = threading.Lock()
_cached: Locator | None = None


def _version() -> tuple[Any, ...] | None:
    # The activation time makes the key unique even where ids are reused (a database
    # rebuilt from scratch, a test rolled back).
    row = (
        GridLayer.objects.filter(status=LayerStatus.ACTIVE)
        .values_list("pk", "revision", "activated_at")
        .first()
    )
    return tuple(row) if row else None


def build_locator(layer: GridLayer) -> Locator:
    rows = GridCell.objects.filter(layer=layer).values_list(
        "pk", "level", "code", "name", "parent_id", "territory_id", "geometry"
    )
    inputs = [
        LocatorInput(pk, level, code, name, parent, territory, from_wkb(geom))
        for pk, level, code, name, parent, territory, geom in rows.iterator(chunk_size=5000)
    ]
    boundary = from_wkb(layer.boundary) if layer.boundary else None
    return Locator(
        inputs,
        lattice=layer.lattice,
        boundary=boundary,
        version=(layer.pk, layer.revision, layer.activated_at),
    )


def get_locator() -> Locator | None:
    """The locator of the active grid (None when no grid is active)."""
    global _cached
    version = _version()
    if version is None:
        return None
    cached = _cached
    if cached is not None and cached.version == version:
        return cached
    with _lock:
        if _cached is not None and _cached.version == version:
            return _cached
        layer = GridLayer.objects.get(pk=version[0])
        _cached = build_locator(layer)
        return _cached


def locate(lon: float, lat: float) -> Location | None:
    """Point (WGS-84) → its cells at the four levels and its territory; None when no grid."""
    locator = get_locator()
    return locator.locate(lon, lat) if locator is not None else None


def layer_extent(layer: GridLayer) -> tuple[float, float, float, float] | None:
    """(west, south, east, north) of a layer, from the indexed bounding-box columns."""
    from django.db.models import Max, Min

    box = GridCell.objects.filter(layer=layer).aggregate(
        w=Min("min_lon"), s=Min("min_lat"), e=Max("max_lon"), n=Max("max_lat")
    )
    if box["w"] is None:
        return None
    return (box["w"], box["s"], box["e"], box["n"])


def level_counts(layer: GridLayer) -> dict[int, int]:
    from django.db.models import Count

    rows = GridCell.objects.filter(layer=layer).values("level").annotate(n=Count("id")).order_by("level")
    return {row["level"]: row["n"] for row in rows}


def ancestors_of(cell: GridCell) -> list[GridCell]:
    """Parent, grandparent … up to the management grid (at most three queries)."""
    chain: list[GridCell] = []
    current = cell.parent
    while current is not None and len(chain) < 4:
        chain.append(current)
        current = current.parent
    return chain


LEVEL_CASE_FIELD = {1: "management_grid", 2: "responsibility_grid", 3: "area_grid", 4: "unit_grid"}


def open_cases_in(cell: GridCell, limit: int = 10) -> tuple[int, list[Any]]:
    """Open cases located in a cell: (how many, the newest few)."""
    from chengguan.cases.models import Case
    from chengguan.cases.workflow import OPEN

    qs = Case.objects.filter(**{LEVEL_CASE_FIELD[cell.level]: cell.code}, status__in=[s.value for s in OPEN])
    return qs.count(), list(qs.order_by("-pk")[:limit])


PATROL_ROLES = ("inspector", "assistant", "bicycle_assistant")


def duty_coverage(layer: GridLayer, level: int = 2, role: str = "inspector") -> dict[str, Any]:
    """Which cells of a level have nobody in ``role`` and which patrol staff have no grid.

    A cell counts as covered when the person is assigned to it or to a cell above it; a
    cell with people only on some of its sub-cells is *partly* covered.
    """
    from chengguan.org.models import Staff

    rows = list(GridCell.objects.filter(layer=layer).values_list("pk", "parent_id", "level", "code", "name"))
    parent = {pk: par for pk, par, _, _, _ in rows}
    on_duty = set(GridDuty.objects.filter(cell__layer=layer, role=role).values_list("cell_id", flat=True))
    covered_below: set[int] = set()
    for pk in on_duty:
        p = parent.get(pk)
        while p is not None and p not in covered_below:
            covered_below.add(p)
            p = parent.get(p)

    def covered(pk: int | None) -> bool:
        while pk is not None:
            if pk in on_duty:
                return True
            pk = parent.get(pk)
        return False

    at_level = [(pk, code, name) for pk, _, lvl, code, name in rows if lvl == level]
    uncovered: list[dict[str, Any]] = []
    partly: list[dict[str, Any]] = []
    for pk, code, name in sorted(at_level, key=lambda r: r[1]):
        if covered(pk):
            continue
        (partly if pk in covered_below else uncovered).append({"id": pk, "code": code, "name": name})
    assigned = set(GridDuty.objects.filter(cell__layer=layer).values_list("staff_id", flat=True))
    idle = list(
        Staff.objects.filter(active=True, role__in=PATROL_ROLES)
        .exclude(pk__in=assigned)
        .select_related("unit")
        .order_by("unit__code", "code")
    )
    return {
        "level": level,
        "cells": len(at_level),
        "uncovered": uncovered,
        "partly": partly,
        "idle_staff": idle,
    }


def components_in_view(west: float, south: float, east: float, north: float, limit: int = 3000) -> list[Any]:
    from chengguan.grid.models import Component

    return list(
        Component.objects.filter(lon__gte=west, lon__lte=east, lat__gte=south, lat__lte=north)
        .select_related("category")
        .order_by("code")[:limit]
    )


def unit_codes_under(cell: GridCell) -> list[str]:
    """Codes of the unit-level cells inside a cell (itself when it is the lowest level)."""
    rows = list(
        GridCell.objects.filter(layer_id=cell.layer_id).values_list("pk", "parent_id", "level", "code")
    )
    lowest = max(level for _, _, level, _ in rows)
    children: dict[int, list[int]] = {}
    for pk, parent, _, _ in rows:
        if parent is not None:
            children.setdefault(parent, []).append(pk)
    code_of = {pk: code for pk, _, _, code in rows}
    level_of = {pk: level for pk, _, level, _ in rows}
    stack, found = [cell.pk], []
    while stack:
        pk = stack.pop()
        if level_of[pk] == lowest:
            found.append(code_of[pk])
        stack.extend(children.get(pk, []))
    return found


def component_counts(cell: GridCell) -> list[tuple[str, str, int]]:
    """(category code, category name, count) of the components in a cell, most first."""
    from django.db.models import Count

    from chengguan.grid.models import Component

    codes = [cell.code] if not cell.children.exists() else unit_codes_under(cell)
    rows = (
        Component.objects.filter(unit_grid__in=codes)
        .values("category__code", "category__name")
        .annotate(n=Count("id"))
        .order_by("-n", "category__code")
    )
    return [(r["category__code"], r["category__name"], r["n"]) for r in rows]


def component_by_code(code: str) -> Any:
    """The component a case names by its 17-digit identifier (None when unknown)."""
    from chengguan.grid.models import Component

    return Component.objects.select_related("category", "owner", "maintainer").filter(code=code).first()
