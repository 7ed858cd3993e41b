"""Template filters that keep citizens' personal data masked in lists and explain views."""

from __future__ import annotations

from typing import Any

from django import template

from chengguan.security.privacy import mask_phones_in_text, shown_actor_name

register = template.Library()


@register.filter
def event_actor(event: Any) -> str:
    """``{{ event|event_actor }}``: the actor of a case event, a citizen's name masked."""
    name = str(getattr(event, "actor_name", "") or "")
    return shown_actor_name(name, str(getattr(event, "actor_role", "")))


@register.filter
def phones_masked(text: str) -> str:
    """``{{ text|phones_masked }}``: phone numbers written in free text masked."""
    return mask_phones_in_text(str(text or ""))
