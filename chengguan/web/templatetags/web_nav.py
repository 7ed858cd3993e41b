"""The per-post navigation drawn in the top bar."""

from __future__ import annotations

from typing import Any

from django import template

from chengguan.web.access import nav_for, viewer

register = template.Library()


@register.simple_tag(takes_context=True)
def post_nav(context: dict[str, Any]) -> list[Any]:
    """The pages of the logged-in user's post (empty for visitors)."""
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return nav_for(viewer(request))
