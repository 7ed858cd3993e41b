"""Dashboard pages: /dashboard/ (filters, charts, tables, map), XLSX exports, the big screen."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from chengguan.cases.selectors import ScopeKind, viewer_of
from chengguan.core.tabular import write_table
from chengguan.dashboard import board as boards
from chengguan.dashboard import labels, selectors
from chengguan.dashboard.forms import DashboardFilterForm

View = Callable[..., HttpResponse]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BIGSCREEN_REFRESH_SECONDS = 30
BIGSCREEN_CACHE_SECONDS = 10
BIGSCREEN_CACHE_KEY = "dashboard:bigscreen"


def district_only(view: View) -> View:
    """Login, then the whole-district view (command centre, leaders, administrators) only."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if viewer_of(request.user).scope is not ScopeKind.DISTRICT:
            return render(
                request,
                "dashboard/forbidden.html",
                {"message": _("统计分析面向指挥中心和领导岗位。")},
                status=403,
            )
        return view(request, *args, **kwargs)

    return wrapped


def _map_settings() -> dict[str, Any]:
    return {
        "tiles": getattr(settings, "CHENGGUAN_MAP_TILES", ""),
        "attribution": getattr(settings, "CHENGGUAN_MAP_ATTRIBUTION", ""),
        "labels": labels.charts(),
    }


@require_GET
@district_only
def dashboard(request: HttpRequest) -> HttpResponse:
    form = DashboardFilterForm(request.GET or None)
    now = timezone.now()
    period = form.get_period(selectors.local_today(now))
    board = boards.build(form.get_filters(), period, now=now)
    query = request.GET.urlencode()
    return render(
        request,
        "dashboard/index.html",
        {
            "nav_key": "dashboard",
            "form": form,
            "board": board,
            "tables": boards.tables(board),
            "charts": boards.chart_data(board),
            "map": {**_map_settings(), "bbox": boards.district_bbox()},
            "query": query,
        },
    )


@require_GET
@district_only
def export(request: HttpRequest, table: str) -> HttpResponse:
    form = DashboardFilterForm(request.GET or None)
    now = timezone.now()
    period = form.get_period(selectors.local_today(now))
    filters = form.get_filters()
    if table == "hotspots":
        bbox = boards.district_bbox()
        if bbox is None:
            raise Http404(_("没有在用的网格。"))
        chosen = boards.hotspot_table(filters, period, bbox)
    else:
        found = {t.key: t for t in boards.tables(boards.build(filters, period, now=now))}
        if table not in found:
            raise Http404(_("没有这个统计表。"))
        chosen = found[table]
    content = write_table(chosen.header, chosen.rows, "xlsx")
    response = HttpResponse(content, content_type=XLSX)
    filename = f"{chosen.key}-{period.start:%Y%m%d}-{period.last_day:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _bbox(text: str) -> tuple[float, float, float, float] | None:
    try:
        west, south, east, north = (float(v) for v in text.split(","))
    except ValueError:
        return None
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        return None
    return west, south, east, north


@require_GET
@district_only
def hotspots(request: HttpRequest) -> JsonResponse:
    """Counts per grid cell in the map's viewport (only cells with cases)."""
    bbox = _bbox(request.GET.get("bbox", ""))
    if bbox is None:
        return JsonResponse({"error": _("地图范围参数 bbox 应为 西,南,东,北。")}, status=400)
    try:
        zoom = int(request.GET.get("zoom", "12"))
    except ValueError:
        zoom = 12
    form = DashboardFilterForm(request.GET or None)
    period = form.get_period(selectors.local_today())
    level, spots = selectors.hotspots(form.get_filters(), period, bbox, zoom)
    return JsonResponse(
        {
            "level": level,
            "period": period.label,
            "cells": [{"code": s.code, "name": s.name, "count": s.count, "bounds": s.bounds} for s in spots],
        }
    )


@require_GET
@district_only
def bigscreen(request: HttpRequest) -> HttpResponse:
    try:
        seconds = max(5, min(600, int(request.GET.get("refresh", BIGSCREEN_REFRESH_SECONDS))))
    except ValueError:
        seconds = BIGSCREEN_REFRESH_SECONDS
    return render(
        request,
        "dashboard/bigscreen.html",
        {"refresh_seconds": seconds, "map": _map_settings(), "initial": _bigscreen_figures()},
    )


@require_GET
@district_only
def bigscreen_data(request: HttpRequest) -> JsonResponse:
    return JsonResponse(_bigscreen_figures())


def _bigscreen_figures() -> dict[str, Any]:
    """Every wall shows the same district-wide figures: one computation serves all screens
    polling within the same few seconds (per app server process)."""
    key = f"{BIGSCREEN_CACHE_KEY}:{get_language()}"
    data = cache.get_or_set(key, boards.bigscreen_data, BIGSCREEN_CACHE_SECONDS)
    return data if isinstance(data, dict) else boards.bigscreen_data()
