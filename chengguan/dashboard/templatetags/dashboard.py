"""Number formats and the table block of the dashboard pages."""

from __future__ import annotations

from typing import Any

from django import template

from chengguan.dashboard.board import LIGHT_LABELS, Table

register = template.Library()
LIGHT_CLASS = {label: key for key, label in LIGHT_LABELS.items()}


@register.filter
def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


@register.filter
def signed_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f}%"


@register.filter
def signed_pp(value: float | None) -> str:
    """A change of a rate, in percentage points."""
    return "—" if value is None else f"{value:+.1f} 个百分点"


@register.filter
def cell(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


@register.inclusion_tag("dashboard/_table.html")
def table_block(table: Table, query: str) -> dict[str, Any]:
    rows = []
    for row in table.rows:
        cells = []
        for value in row:
            light = LIGHT_CLASS.get(value) if isinstance(value, str) else None
            cells.append({"text": cell(value), "light": light, "number": isinstance(value, int | float)})
        rows.append(cells)
    return {"table": table, "rows": rows, "query": query, "open": table.key == "units"}
