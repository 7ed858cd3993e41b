from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from chengguan.calendar import selectors, services
from chengguan.calendar.models import CalendarDay

WEEKDAYS = "一二三四五六日"


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "weekday", "is_working_day", "name", "source"]
    list_filter = ["is_working_day"]
    search_fields = ["name", "source", "note"]
    date_hierarchy = "date"
    fields = ["date", "is_working_day", "name", "source", "note"]

    @admin.display(description=_("星期"), ordering="date")
    def weekday(self, obj: CalendarDay) -> str:
        return "周" + WEEKDAYS[obj.date.weekday()]

    # Writes go through the services so the calendar version is bumped with them.
    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        services.calendar_day_save(day=obj)

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        services.calendar_days_delete(dates=[obj.date])

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[CalendarDay]) -> None:
        services.calendar_days_delete(dates=list(queryset.values_list("date", flat=True)))

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        for warning in selectors.missing_holiday_warnings():
            messages.warning(
                request,
                f"{warning}。国务院办公厅每年 11–12 月发布下一年的节假日安排通知，"
                "请按通知逐日录入放假日和调休上班日，或用 import_holidays 命令导入。",
            )
        return super().changelist_view(request, extra_context)
