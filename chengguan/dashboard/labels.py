"""Words the dashboard shows for its keys, translated through gettext (Simplified Chinese first)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from chengguan.cases.models import Channel

GROUPS: dict[str, Promise] = {"complaint": _("投诉"), "patrol": _("巡查"), "other": _("其他来源")}
MODES: dict[str, Promise] = {"service": _("服务"), "management": _("管理"), "enforcement": _("执法")}
KINDS: dict[str, Promise] = {"matter": _("事项"), "component": _("部件")}
LIGHTS: dict[str, Promise] = {"green": _("正常"), "yellow": _("有超期"), "red": _("超期较多")}
PERIODS: dict[str, Promise] = {
    "today": _("今日"),
    "week": _("本周"),
    "month": _("本月"),
    "quarter": _("本季度"),
    "year": _("本年"),
    "custom": _("自定义"),
}
GRID_LEVELS: dict[int, Promise] = {2: _("责任网格"), 3: _("区域网格"), 4: _("单元网格")}


def channel(key: str) -> str:
    try:
        return str(Channel(key).label)
    except ValueError:
        return key


def charts() -> dict[str, str]:
    """The words the chart scripts draw (legends, axes), in the page's language."""
    words: dict[str, Promise] = {
        "today": _("今日"),
        "period": _("本期"),
        "reported": _("上报数"),
        "reported_period": _("本期上报"),
        "reported_last_year": _("上年同期上报"),
        "last_year_month": _("上年同月"),
        "closure": _("结案率%"),
        "closure_last_year": _("上年同期结案率%"),
        "on_time": _("按期处置率%"),
        "actual": _("实际%"),
        "target": _("目标%"),
        "open": _("在办"),
        "overdue": _("超期"),
        "cases": _("件"),
        "this_month": _("本月"),
        "yoy": _("同比"),
        "points": _("个百分点"),
        "updated": _("数据更新于"),
        "refresh_failed": _("数据刷新失败，稍后重试"),
        "patrol": _("巡查"),
        "complaints": _("投诉"),
        "map_cells": _("视野内 {n} 个网格有案件，最多 {max} 件"),
        "map_failed": _("热点数据加载失败"),
    }
    words.update({f"level{k}": v for k, v in GRID_LEVELS.items()})
    return {k: str(v) for k, v in words.items()}
