"""The grid map: cells drawn by level and viewport, a cell's people and open cases, and the
validation report of a grid version with its problems drawn on the map."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from chengguan.grid import selectors
from chengguan.grid.models import DutyRole, GridCell, GridLayer, GridLevel, LayerStatus
from chengguan.grid.validation import KIND_LABELS, Report

# More features than this in one viewport are not sent: the page asks to zoom in instead,
# so the map stays responsive with 50,000 unit grids.
MAX_FEATURES = 3000
MAX_ISSUES_SHOWN = 500


def _tiles() -> dict[str, str]:
    """Background tiles, e.g. 天地图 with a key; none means a plain background (offline)."""
    return {
        "url": getattr(settings, "CHENGGUAN_MAP_TILES", "") or os.environ.get("CHENGGUAN_MAP_TILES", ""),
        "attribution": getattr(settings, "CHENGGUAN_MAP_ATTRIBUTION", "")
        or os.environ.get("CHENGGUAN_MAP_ATTRIBUTION", ""),
    }


def _map_config(layer: GridLayer, initial: list[int]) -> dict[str, Any]:
    return {
        "layer": layer.pk,
        "extent": selectors.layer_extent(layer),
        "cells_url": reverse("grid:cells"),
        "components_url": reverse("grid:components"),
        "panel_url": reverse("grid:cell", args=[0]),
        "initial": initial,
        "tiles": _tiles(),
        "max_features": MAX_FEATURES,
        "messages": {
            "too_many": _("当前范围内%(level)s太多，请放大地图后显示。"),
            "failed": _("网格数据加载失败，请稍后重试。"),
        },
    }


@login_required
def map_page(request: HttpRequest) -> HttpResponse:
    layer = selectors.active_layer()
    context: dict[str, Any] = {"layer": layer}
    if layer is not None:
        counts = selectors.level_counts(layer)
        context["levels"] = [(value, label, counts.get(value, 0)) for value, label in GridLevel.choices]
        context["config"] = _map_config(layer, [1, 2])
    return render(request, "grid/map.html", context)


def _bbox(text: str) -> tuple[float, float, float, float] | None:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        return None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        return None
    return west, south, east, north


@login_required
def cells_json(request: HttpRequest) -> JsonResponse:
    """GeoJSON of one level's cells in the viewport (``?level=4&bbox=w,s,e,n&layer=id``)."""
    try:
        level = int(request.GET.get("level", ""))
    except ValueError:
        level = 0
    if level not in GridLevel.values:
        return JsonResponse({"error": _("层级应为 1–4。")}, status=400)
    bbox = _bbox(request.GET.get("bbox", ""))
    if bbox is None:
        return JsonResponse({"error": _("范围参数 bbox 应为“西,南,东,北”经纬度。")}, status=400)
    layer_id = request.GET.get("layer")
    layer = (
        get_object_or_404(GridLayer, pk=layer_id)
        if layer_id and layer_id.isdigit()
        else selectors.active_layer()
    )
    if layer is None:
        return JsonResponse({"error": _("当前没有在用的网格。")}, status=404)
    cells = list(selectors.cells_in_view(layer, level, *bbox, limit=MAX_FEATURES + 1))
    if len(cells) > MAX_FEATURES:
        return JsonResponse({"type": "FeatureCollection", "features": [], "too_many": True})
    return JsonResponse(selectors.cells_geojson(cells))


@login_required
def components_json(request: HttpRequest) -> JsonResponse:
    """GeoJSON points of the component inventory in the viewport (``?bbox=w,s,e,n``)."""
    bbox = _bbox(request.GET.get("bbox", ""))
    if bbox is None:
        return JsonResponse({"error": _("范围参数 bbox 应为“西,南,东,北”经纬度。")}, status=400)
    items = selectors.components_in_view(*bbox, limit=MAX_FEATURES + 1)
    if len(items) > MAX_FEATURES:
        return JsonResponse({"type": "FeatureCollection", "features": [], "too_many": True})
    return JsonResponse(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [round(c.lon, 7), round(c.lat, 7)]},
                    "properties": {
                        "code": c.code,
                        "name": c.name or c.category.name,
                        "category": c.category.name,
                        "state": c.get_state_display(),
                        "broken": c.state != "intact",
                    },
                }
                for c in items
            ],
        }
    )


@login_required
def cell_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """The side panel of one cell: where it sits, who is responsible, which cases are open."""
    cell = get_object_or_404(GridCell.objects.select_related("territory", "layer", "parent"), pk=pk)
    open_count, cases = selectors.open_cases_in(cell)
    components = selectors.component_counts(cell)
    return render(
        request,
        "grid/cell_panel.html",
        {
            "cell": cell,
            "ancestors": selectors.ancestors_of(cell),
            "duties": selectors.duties_of(cell),
            "open_count": open_count,
            "cases": cases,
            "components": components,
            "component_total": sum(n for _, _, n in components),
        },
    )


@login_required
def layer_list(request: HttpRequest) -> HttpResponse:
    layers = GridLayer.objects.order_by("-created_at", "-id")[:50]
    return render(request, "grid/layers.html", {"layers": layers, "active": LayerStatus.ACTIVE})


def _counted(layer: GridLayer) -> list[tuple[tuple[int, str], int]]:
    counts = selectors.level_counts(layer)
    return [((value, str(label)), counts.get(value, 0)) for value, label in GridLevel.choices]


@login_required
def layer_report(request: HttpRequest, pk: int) -> HttpResponse:
    """A grid version's validation report, with the problems drawn over its cells."""
    layer = get_object_or_404(GridLayer, pk=pk)
    report = Report.from_dict(layer.report)
    ordered = sorted(report.issues, key=lambda i: (i.severity != "error", i.kind, -(i.area_m2 or 0)))
    shown = ordered[:MAX_ISSUES_SHOWN]
    features = [
        {
            "type": "Feature",
            "geometry": issue.geometry,
            "properties": {"n": n, "kind": issue.kind, "severity": issue.severity, "message": issue.message},
        }
        for n, issue in enumerate(shown)
        if issue.geometry
    ]
    config = _map_config(layer, [1])
    config["issues"] = {"type": "FeatureCollection", "features": features}
    return render(
        request,
        "grid/layer_report.html",
        {
            "layer": layer,
            "report": report,
            "issues": [(n, issue, KIND_LABELS.get(issue.kind, issue.kind)) for n, issue in enumerate(shown)],
            "hidden": len(ordered) - len(shown),
            "levels": [(value, label, n) for (value, label), n in _counted(layer)],
            "config": config,
        },
    )


@login_required
def coverage(request: HttpRequest) -> HttpResponse:
    """People in grids: cells nobody patrols and patrol staff without a grid."""
    layer = selectors.active_layer()
    try:
        level = int(request.GET.get("level", "2"))
    except ValueError:
        level = 2
    if level not in GridLevel.values:
        level = 2
    role = request.GET.get("role", DutyRole.INSPECTOR)
    if role not in DutyRole.values:
        role = DutyRole.INSPECTOR
    result = selectors.duty_coverage(layer, level, role) if layer is not None else None
    return render(
        request,
        "grid/coverage.html",
        {
            "layer": layer,
            "result": result,
            "level": level,
            "role": role,
            "levels": GridLevel.choices,
            "roles": DutyRole.choices,
            "role_label": DutyRole(role).label,
            "level_label": GridLevel(level).label,
        },
    )
