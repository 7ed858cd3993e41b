"""Number formats and the table block of the dashboard pages."""

from __future__ import annotations

from typing import Any

from django import template

from chengguan.dashboard.board import Table

register = template.Library()


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
    for r, row in enumerate(table.rows):
        cells = []
        for c, value in enumerate(row):
            light = table.lights[r] if c == table.light_column and r < len(table.lights) else None
            cells.append({"text": cell(value), "light": light, "number": isinstance(value, int | float)})
        rows.append(cells)
    return {"table": table, "rows": rows, "query": query, "open": table.key == "units"}
