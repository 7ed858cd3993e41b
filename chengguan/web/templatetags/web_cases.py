"""Small display filters for the case pages."""

from __future__ import annotations

from django import template

from chengguan.cases.models import Light

register = template.Library()

LIGHT_LABELS = dict(Light.choices)


@register.filter
def light_label(light: str) -> str:
    return str(LIGHT_LABELS.get(light, ""))
