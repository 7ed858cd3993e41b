"""Read-only admin for cases: changes go through the workflow pages, events are never edited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from chengguan.cases.models import Attachment, Case, CaseEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows; adding, changing and deleting are refused to everyone, superusers included."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("seq", "at", "label", "actor_name", "actor_role", "from_status", "to_status", "note")
    readonly_fields = fields
    ordering = ("seq",)
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = (
        "code",
        "category",
        "status",
        "channel",
        "territory",
        "lead_unit",
        "deadline",
        "reported_at",
    )
    list_filter = ("status", "channel", "urgency", "territory")
    search_fields = ("code", "address")
    list_select_related = ("category", "territory", "lead_unit")
    date_hierarchy = "reported_at"
    show_full_result_count = False  # no COUNT(*) over a million cases on every list page
    inlines = [EventInline]
    # Citizen contact details live in their own model and are not shown here.
    exclude = ("co_handlers",)


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ("case", "seq", "label", "actor_name", "actor_role", "from_status", "to_status", "at")
    list_filter = ("action",)
    search_fields = ("case__code", "actor_name")
    list_select_related = ("case", "case__category")
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "content_type", "size", "uploaded_at")
    list_filter = ("kind",)
    search_fields = ("case__code",)
    list_select_related = ("case", "case__category")
