from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from chengguan.grid.models import Component, GridCell, GridDuty, GridLayer
from chengguan.grid.validation import Report


@admin.register(GridLayer)
class GridLayerAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "source",
        "status",
        "error_count",
        "warning_count",
        "activated_at",
        "created_at",
    ]
    list_filter = ["status", "source"]
    search_fields = ["name"]
    # Layers change only through import/generate/activate, which validate first.
    readonly_fields = [
        "name",
        "source",
        "status",
        "revision",
        "source_files",
        "error_count",
        "warning_count",
        "report_accepted",
        "accepted_by",
        "activated_at",
        "retired_at",
        "fingerprint",
        "report_text",
    ]
    exclude = ["boundary", "lattice", "report"]

    @admin.display(description=_("校验报告"))
    def report_text(self, obj: GridLayer) -> SafeString:
        lines = Report.from_dict(obj.report).format_text(50).splitlines()
        return format_html_join("", "<div>{}</div>", ((line,) for line in lines))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class GridDutyInline(admin.TabularInline):
    model = GridDuty
    extra = 1
    autocomplete_fields = ["staff"]
    fields = ["role", "staff", "department", "note"]


@admin.register(GridCell)
class GridCellAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "territory", "area_m2", "layer"]
    list_filter = ["level", "layer__status", "layer"]
    search_fields = ["code", "name"]
    list_select_related = ["territory", "layer"]
    readonly_fields = [
        "layer",
        "level",
        "code",
        "parent",
        "area_m2",
        "min_lon",
        "min_lat",
        "max_lon",
        "max_lat",
        "label_lon",
        "label_lat",
        "properties",
    ]
    exclude = ["geometry"]
    inlines = [GridDutyInline]
    show_full_result_count = False  # counting 50,000 cells on every page is wasted work

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category", "state", "unit_grid", "owner", "maintainer"]
    list_filter = ["state", "category"]
    search_fields = ["code", "name", "unit_grid", "address"]
    list_select_related = ["category", "owner", "maintainer"]
    autocomplete_fields = ["owner", "maintainer"]
    readonly_fields = ["unit_grid", "properties"]
