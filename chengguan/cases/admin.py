"""Read-only admin for cases: changes go through the workflow pages, events are never edited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from chengguan.cases.models import Attachment, Case, CaseEvent
from chengguan.security.privacy import mask_phones_in_text, shown_actor_name


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shows rows; adding, changing and deleting are refused to everyone, superusers included."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class MaskedEventFields:
    """A citizen's name and any number in a note masked, as in every other list
    (chengguan.security.privacy)."""

    @admin.display(description=_("操作人"))
    def shown_actor(self, event: CaseEvent) -> str:
        return shown_actor_name(event.actor_name, event.actor_role)

    @admin.display(description=_("说明"))
    def shown_note(self, event: CaseEvent) -> str:
        return mask_phones_in_text(event.note)


class EventInline(MaskedEventFields, admin.TabularInline):
    model = CaseEvent
    extra = 0
    can_delete = False
    fields = ("seq", "at", "label", "shown_actor", "actor_role", "from_status", "to_status", "shown_note")
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
    # Citizen contact details live in their own model and are not shown here; a number typed
    # into the description is masked like everywhere else.
    exclude = ("co_handlers", "description")
    readonly_fields = ("shown_description",)

    @admin.display(description=_("问题描述"))
    def shown_description(self, case: Case) -> str:
        return mask_phones_in_text(case.description)


@admin.register(CaseEvent)
class CaseEventAdmin(MaskedEventFields, ReadOnlyAdmin):
    list_display = ("case", "seq", "label", "shown_actor", "actor_role", "from_status", "to_status", "at")
    list_filter = ("action",)
    # The detail page too: the citizen's own name and any number in the note masked.
    exclude = ("actor_name", "note")
    readonly_fields = ("shown_actor", "shown_note")
    search_fields = ("case__code", "actor_name")
    list_select_related = ("case", "case__category")
    show_full_result_count = False

    def get_search_results(self, request: Any, queryset: Any, search_term: str) -> tuple[Any, bool]:
        # A name search finds officers' events only: matching a citizen's name would tell the
        # searcher which cases that person reported, although the name itself is masked.
        term = search_term.strip()
        if not term:
            return queryset, False
        by_code = queryset.filter(case__code__icontains=term)
        by_officer = queryset.filter(actor_name__icontains=term).exclude(actor_role="citizen")
        return by_code | by_officer, False


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "content_type", "size", "uploaded_at")
    list_filter = ("kind",)
    search_fields = ("case__code",)
    list_select_related = ("case", "case__category")
