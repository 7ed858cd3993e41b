"""System check: a mistyped CHENGGUAN_WORK_PERIODS stops startup with a readable message
instead of surfacing as wrong deadlines later."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from chengguan.calendar.worktime import DEFAULT_PERIODS_TEXT, CalendarError, parse_periods


@register()
def check_work_periods(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    text = getattr(settings, "CHENGGUAN_WORK_PERIODS", DEFAULT_PERIODS_TEXT)
    try:
        parse_periods(text)
    except CalendarError as exc:
        return [Error(f"CHENGGUAN_WORK_PERIODS={text!r}：{exc}", id="workcal.E001")]
    return []
