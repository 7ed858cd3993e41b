from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def area(value: float | None) -> str:
    """m² as a clerk reads it: 平方米 for grids, 平方公里 for whole subdistricts."""
    if value is None:
        return "—"
    if value >= 1_000_000:
        return _("%(n)s 平方公里") % {"n": f"{value / 1_000_000:,.2f}"}
    return _("%(n)s 平方米") % {"n": f"{value:,.0f}"}
