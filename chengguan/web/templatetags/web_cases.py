"""Small display filters for the case pages."""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from chengguan.cases.models import Light
from chengguan.cases.selectors import CategoryGroup

register = template.Library()

LIGHT_LABELS = dict(Light.choices)


@register.filter
def light_label(light: str) -> str:
    return str(LIGHT_LABELS.get(light, ""))


@register.simple_tag
def category_optgroups(groups: Sequence[CategoryGroup], selected: object = "") -> SafeString:
    """``<optgroup>``s of the category picker, one per major class (built in Python: fast)."""
    chosen = str(selected or "")
    return format_html_join(
        "\n",
        '<optgroup label="{} {}">{}</optgroup>',
        (
            (
                group.major_code,
                group.major_name,
                format_html_join(
                    "",
                    '<option value="{}"{}>{} {}</option>',
                    (
                        (c.pk, mark_safe(" selected") if str(c.pk) == chosen else "", c.code, c.name)
                        for c in group.categories
                    ),
                ),
            )
            for group in groups
        ),
    )
