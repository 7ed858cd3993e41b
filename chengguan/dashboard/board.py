"""Everything one dashboard page shows, gathered from the selectors, and its tables.

Each table is built once here and used twice: drawn on the page and exported to XLSX, so
the export always says what the page said.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from chengguan.dashboard import figures, labels, selectors
from chengguan.dashboard.figures import Measures, Period
from chengguan.dashboard.labels import GROUPS, KINDS, LIGHTS, MODES, channel
from chengguan.dashboard.selectors import (
    CHANNELS,
    CategoryRow,
    Comparison,
    Filters,
    MonthRow,
    UnitRow,
)


@dataclass
class Board:
    filters: Filters
    period: Period
    previous: Period
    last_year: Period
    today: Period
    now: dt.datetime
    channels: dict[str, Measures]
    today_channels: dict[str, Measures]
    comparison: dict[str, Comparison]
    categories: list[CategoryRow]
    kinds: dict[str, int]
    units: list[UnitRow]
    modes: dict[str, int]
    trend: list[MonthRow]

    @property
    def mix(self) -> list[figures.MixRow]:
        return figures.mix_721(self.modes)

    @property
    def open_total(self) -> int:
        return sum(u.open for u in self.units)

    @property
    def overdue_total(self) -> int:
        return sum(u.overdue for u in self.units)

    @property
    def today_total(self) -> int:
        return sum(m.reported for m in self.today_channels.values())


def build(
    filters: Filters, period: Period, *, now: dt.datetime | None = None, use_summary: bool = True
) -> Board:
    now = now or timezone.now()
    kw: dict[str, Any] = {"now": now, "use_summary": use_summary}
    today = figures.period_for(figures.PeriodKind.TODAY, selectors.local_today(now))
    previous, last_year = figures.previous_period(period), figures.year_earlier(period)
    channels = selectors.channel_measures(filters, period, **kw)
    parts = [
        channels,
        selectors.channel_measures(filters, previous, **kw),
        selectors.channel_measures(filters, last_year, **kw),
    ]
    grouped = []
    for part in parts:
        groups = selectors.group_measures(part)
        groups["all"] = figures.total(groups.values())
        grouped.append(groups)
    comparison = {
        key: Comparison(grouped[0][key], grouped[1][key], grouped[2][key]) for key in (*GROUPS, "all")
    }
    today_channels = channels if period == today else selectors.channel_measures(filters, today, **kw)
    categories, kinds = selectors.category_rows(filters, period, **kw)
    return Board(
        filters=filters,
        period=period,
        previous=previous,
        last_year=last_year,
        today=today,
        now=now,
        channels=channels,
        today_channels=today_channels,
        comparison=comparison,
        categories=categories,
        kinds=kinds,
        units=selectors.unit_rows(filters, period, **kw),
        modes=selectors.mode_counts(filters, period, **kw),
        trend=selectors.trend(filters, **kw),
    )


# -- tables -------------------------------------------------------------------------------------


@dataclass
class Table:
    key: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    # The units table colours one column by each row's light (green / yellow / red).
    light_column: int | None = None
    lights: list[str] = field(default_factory=list)


def pct(value: float | None) -> float | None:
    return figures.round_or_none(value, 1)


def table_groups(board: Board) -> Table:
    rows = []
    for key, label in (*GROUPS.items(), ("all", _("合计"))):
        c = board.comparison[key]
        rows.append(
            [
                str(label),
                c.current.reported,
                pct(c.intake_mom),
                pct(c.intake_yoy),
                c.current.valid,
                c.current.closed,
                pct(c.current.closure_rate),
                pct(c.closure_mom),
                pct(c.closure_yoy),
                pct(c.current.on_time_rate),
                pct(c.current.satisfaction_rate),
            ]
        )
    return Table(
        "groups",
        _("投诉与巡查对比"),
        [_("来源"), _("上报数"), _("环比%"), _("同比%"), _("应结案数"), _("结案数"), _("结案率%"),
         _("结案率环比(百分点)"), _("结案率同比(百分点)"), _("按期处置率%"), _("满意率%")],
        rows,
    )  # fmt: skip


def table_channels(board: Board) -> Table:
    whole = sum(m.reported for m in board.channels.values())
    rows = []
    for key in CHANNELS:
        m = board.channels[key]
        rows.append(
            [
                channel(key),
                board.today_channels[key].reported,
                m.reported,
                pct(figures.rate(m.reported, whole)),
                m.valid,
                m.closed,
                pct(m.closure_rate),
                pct(m.on_time_rate),
            ]
        )
    return Table(
        "channels",
        _("受理来源"),
        [
            _("来源"),
            _("今日上报"),
            _("本期上报"),
            _("占比%"),
            _("应结案数"),
            _("结案数"),
            _("结案率%"),
            _("按期处置率%"),
        ],
        rows,
    )


def table_categories(board: Board) -> Table:
    rows = [
        [str(KINDS.get(c.kind, c.kind)), c.major, c.name, c.reported, pct(c.closure_rate)]
        for c in board.categories
    ]
    return Table(
        "categories", _("高发问题类别"), [_("类型"), _("大类"), _("小类"), _("上报数"), _("结案率%")], rows
    )


def table_units(board: Board) -> Table:
    rows = []
    for u in board.units:
        m = u.measures
        rows.append(
            [
                u.name,
                str(LIGHTS[u.light]),
                u.open,
                u.overdue,
                u.warning,
                u.deferred,
                m.reported,
                m.valid,
                pct(m.closure_rate),
                pct(m.on_time_rate),
                pct(m.rework_rate),
                pct(m.extension_rate),
                pct(m.satisfaction_rate),
            ]
        )
    return Table(
        "units",
        _("单位在办、超期与处置质量"),
        [_("单位"), _("亮灯"), _("在办"), _("超期"), _("24小时内到期"), _("挂账"), _("本期派遣"),
         _("应结案数"), _("结案率%"), _("按期处置率%"), _("返工率%"), _("延期率%"), _("满意率%")],
        rows,
        light_column=1,
        lights=[u.light for u in board.units],
    )  # fmt: skip


def table_mix(board: Board) -> Table:
    def row(name: str, modes: dict[str, int]) -> list[Any]:
        mix = figures.mix_721(modes)
        return [
            name,
            *(m.count for m in mix),
            *(pct(m.share) for m in mix),
            pct(figures.mix_distance(modes)),
        ]

    rows = [row("全区", board.modes)]
    rows += [row(u.name, u.modes) for u in board.units if u.modes]
    return Table(
        "mix",
        _("721 工作法：服务、管理、执法（目标 70/20/10）"),
        [
            _("单位"),
            _("服务(件)"),
            _("管理(件)"),
            _("执法(件)"),
            _("服务%"),
            _("管理%"),
            _("执法%"),
            _("偏离目标(百分点)"),
        ],
        rows,
    )


def table_trend(board: Board) -> Table:
    rows = []
    for r in board.trend:
        rows.append(
            [
                f"{r.month:%Y-%m}",
                r.measures.reported,
                r.last_year.reported,
                pct(figures.change(r.measures.reported, r.last_year.reported)),
                pct(r.measures.closure_rate),
                pct(r.last_year.closure_rate),
                pct(r.measures.on_time_rate),
            ]
        )
    return Table(
        "trend",
        _("近 13 个月走势（同比）"),
        [
            _("月份"),
            _("上报数"),
            _("上年同月"),
            _("同比%"),
            _("结案率%"),
            _("上年同月结案率%"),
            _("按期处置率%"),
        ],
        rows,
    )


def tables(board: Board) -> list[Table]:
    return [
        table_groups(board),
        table_channels(board),
        table_categories(board),
        table_units(board),
        table_mix(board),
        table_trend(board),
    ]


def hotspot_table(
    filters: Filters, period: Period, bbox: tuple[float, float, float, float], limit: int = 500
) -> Table:
    _level, spots = selectors.hotspots(filters, period, bbox, 15, limit=limit)
    return Table(
        "hotspots",
        _("案件高发单元网格"),
        [_("网格编码"), _("名称"), _("案件数"), _("中心经度"), _("中心纬度")],
        [[s.code, s.name, s.count, round(s.label[0], 6), round(s.label[1], 6)] for s in spots],
    )


def chart_data(board: Board) -> dict[str, Any]:
    """Plain numbers and words for the page's ECharts (drawn by dashboard.js)."""
    return {
        "labels": labels.charts(),
        "channels": [
            {
                "name": channel(c),
                "today": board.today_channels[c].reported,
                "period": board.channels[c].reported,
            }
            for c in CHANNELS
        ],
        "groups": [
            {
                "name": str(label),
                "reported": board.comparison[key].current.reported,
                "reported_last_year": board.comparison[key].last_year.reported,
                "closure": pct(board.comparison[key].current.closure_rate),
                "closure_last_year": pct(board.comparison[key].last_year.closure_rate),
                "on_time": pct(board.comparison[key].current.on_time_rate),
            }
            for key, label in GROUPS.items()
        ],
        "trend": [
            {
                "month": f"{r.month:%Y-%m}",
                "reported": r.measures.reported,
                "last_year": r.last_year.reported,
                "closure": pct(r.measures.closure_rate),
                "on_time": pct(r.measures.on_time_rate),
            }
            for r in board.trend
        ],
        "categories": [{"name": c.name, "reported": c.reported} for c in board.categories[:12]],
        "kinds": [{"name": str(KINDS[k]), "value": v} for k, v in board.kinds.items()],
        "mix": [
            {"name": str(MODES[m.mode]), "share": pct(m.share), "target": m.target, "count": m.count}
            for m in board.mix
        ],
        "units": [
            {
                "name": u.name,
                "open": u.open,
                "overdue": u.overdue,
                "on_time": pct(u.measures.on_time_rate),
                "closure": pct(u.measures.closure_rate),
                "light": u.light,
            }
            for u in board.units
            if u.unit_id is not None
        ][:20],
    }


# -- the big screen -------------------------------------------------------------------------------


def district_bbox() -> tuple[float, float, float, float] | None:
    """The active grid's extent (west, south, east, north)."""
    from django.db.models import Max, Min

    from chengguan.grid.models import GridCell
    from chengguan.grid.selectors import active_layer

    layer = active_layer()
    if layer is None:
        return None
    box = GridCell.objects.filter(layer=layer, level=1).aggregate(
        w=Min("min_lon"), s=Min("min_lat"), e=Max("max_lon"), n=Max("max_lat")
    )
    if box["w"] is None:
        return None
    return (box["w"], box["s"], box["e"], box["n"])


def bigscreen_data(*, now: dt.datetime | None = None, use_summary: bool = True) -> dict[str, Any]:
    """What the command-centre wall shows: today, this month against last year, units, map."""
    now = now or timezone.now()
    today = selectors.local_today(now)
    month = figures.period_for(figures.PeriodKind.MONTH, today)
    board = build(Filters(), month, now=now, use_summary=use_summary)
    data = chart_data(board)
    c = board.comparison
    recent = figures.Period(
        figures.PeriodKind.CUSTOM, today - dt.timedelta(days=29), today + dt.timedelta(days=1)
    )
    bbox = district_bbox()
    spots: list[dict[str, Any]] = []
    level = 3
    if bbox is not None:
        level, found = selectors.hotspots(Filters(), recent, bbox, 13, limit=400)
        spots = [{"code": s.code, "name": s.name, "count": s.count, "bounds": s.bounds} for s in found]
    data.update(
        {
            "now": timezone.localtime(now).strftime("%Y-%m-%d %H:%M:%S"),
            "month": month.label,
            "kpi": {
                "today": board.today_total,
                "month": c["all"].current.reported,
                "month_yoy": pct(c["all"].intake_yoy),
                "closure": pct(c["all"].current.closure_rate),
                "closure_yoy": pct(c["all"].closure_yoy),
                "on_time": pct(c["all"].current.on_time_rate),
                "complaints": c["complaint"].current.reported,
                "complaint_closure": pct(c["complaint"].current.closure_rate),
                "patrol_closure": pct(c["patrol"].current.closure_rate),
                "satisfaction": pct(c["all"].current.satisfaction_rate),
                "open": board.open_total,
                "overdue": board.overdue_total,
            },
            "latest": [
                {
                    "code": row["code"],
                    "time": timezone.localtime(row["reported_at"]).strftime("%m-%d %H:%M"),
                    "channel": channel(row["channel"]),
                    "category": row["category_name"],
                    "territory": row["territory_name"] or "",
                }
                for row in selectors.latest_cases(Filters(), 12)
            ],
            "hotspots": {"level": level, "bbox": bbox, "cells": spots},
        }
    )
    data["units"] = sorted(data["units"], key=lambda u: (-u["overdue"], -u["open"]))[:10]
    return data
