from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from chengguan.security.models import PersonalDataAccess


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(admin.ModelAdmin):
    """Read-only: the audit log is written by the code that shows personal data, never by hand."""

    list_display = ("at", "username", "case_code", "fields", "where", "reason", "ip_address")
    list_filter = ("where",)
    search_fields = ("username", "case_code", "where")
    date_hierarchy = "at"
    list_select_related = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
