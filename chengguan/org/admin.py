"""Admin pages for the org chart, staff and their equipment, with table import and export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chengguan.core.tabular import ImportReport
from chengguan.org import selectors, services
from chengguan.org.models import Equipment, FunctionalDomain, OrgUnit, Staff, UnitKind, Vehicle
from chengguan.org.rules import STAFF_COLUMNS, STAFF_REQUIRED, UNIT_COLUMNS, UNIT_REQUIRED

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
ENCODINGS = [
    ("", _("UTF-8（默认）")),
    ("gbk", _("GBK（Excel 中文版另存的 CSV）")),
    ("gb18030", _("GB18030")),
]


def _download(data: bytes, fmt: str, stem: str) -> HttpResponse:
    response = HttpResponse(data, content_type=CONTENT_TYPES[fmt])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{stem}-{stamp}.{fmt}"'
    return response


class ImportForm(forms.Form):
    file = forms.FileField(label=_("文件"), help_text=_("CSV 或 XLSX，第一行为列名"))
    encoding = forms.ChoiceField(label=_("CSV 编码"), choices=ENCODINGS, required=False)
    dry_run = forms.BooleanField(label=_("只校验，不写入"), required=False, initial=True)


class StaffImportForm(ImportForm):
    create_users = forms.BooleanField(
        label=_("自动创建不存在的登录账号"),
        required=False,
        help_text=_("新账号没有密码，需管理员另行设置后才能登录"),
    )


class TableAdmin(admin.ModelAdmin):
    """A model admin with CSV/XLSX export actions and an import page."""

    change_list_template = "admin/org/table_change_list.html"
    import_form: type[ImportForm] = ImportForm
    columns: tuple[str, ...] = ()
    required: tuple[str, ...] = ()
    export_stem = ""

    def export_table(self, fmt: str, queryset: QuerySet[Any]) -> bytes:
        raise NotImplementedError

    def run_import(self, form: ImportForm) -> ImportReport:
        raise NotImplementedError

    @admin.action(description=_("导出所选为 CSV"))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse:
        return _download(self.export_table("csv", queryset), "csv", self.export_stem)

    @admin.action(description=_("导出所选为 Excel"))
    def export_xlsx(self, request: HttpRequest, queryset: QuerySet[Any]) -> HttpResponse:
        return _download(self.export_table("xlsx", queryset), "xlsx", self.export_stem)

    actions = ["export_csv", "export_xlsx"]

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_import"
        view: Callable[..., HttpResponse] = self.admin_site.admin_view(self.import_view)
        return [path("import/", view, name=name), *super().get_urls()]

    def can_import(self, request: HttpRequest) -> bool:
        # An import both creates and updates rows, so it needs both permissions.
        return self.has_add_permission(request) and self.has_change_permission(request)

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        extra = {"can_import": self.can_import(request), **(extra_context or {})}
        return super().changelist_view(request, extra)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not self.can_import(request):
            raise PermissionDenied
        report: ImportReport | None = None
        dry_run = False
        if request.method == "POST":
            form = self.import_form(request.POST, request.FILES)
            if form.is_valid():
                dry_run = form.cleaned_data["dry_run"]
                report = self.run_import(form)
        else:
            form = self.import_form()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("导入%(name)s") % {"name": self.opts.verbose_name},
            "form": form,
            "report": report,
            "dry_run": dry_run,
            "columns": self.columns,
            "required": self.required,
        }
        return TemplateResponse(request, "admin/org/import.html", context)


@admin.register(FunctionalDomain)
class FunctionalDomainAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "order", "unit_count"]
    list_editable = ["order"]
    search_fields = ["name", "code"]
    ordering = ["order", "code"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FunctionalDomain]:
        return super().get_queryset(request).annotate(unit_count=Count("units"))

    @admin.display(description=_("单位数"), ordering="unit_count")
    def unit_count(self, domain: FunctionalDomain) -> int:
        return getattr(domain, "unit_count", 0)


@admin.register(OrgUnit)
class OrgUnitAdmin(TableAdmin):
    list_display = [
        "code",
        "name",
        "kind",
        "parent",
        "territory",
        "committee_member",
        "in_grid",
        "active",
    ]
    list_display_links = ["code", "name"]
    list_filter = ["kind", "committee_member", "in_grid", "active", "domains"]
    search_fields = ["code", "name", "short_name"]
    autocomplete_fields = ["parent", "territory"]
    filter_horizontal = ["domains"]
    list_select_related = ["parent", "territory"]
    list_per_page = 100
    fieldsets = [
        (None, {"fields": ["code", "name", "short_name", "kind", "active"]}),
        (_("隶属关系"), {"fields": ["parent", "territory"]}),
        (_("职能与网格"), {"fields": ["domains", "committee_member", "in_grid"]}),
        (_("联系方式"), {"fields": ["contact_phone", "address", "note"]}),
    ]
    columns = UNIT_COLUMNS
    required = UNIT_REQUIRED
    export_stem = "units"

    def export_table(self, fmt: str, queryset: QuerySet[Any]) -> bytes:
        return selectors.units_table(fmt, queryset)

    def run_import(self, form: ImportForm) -> ImportReport:
        upload = form.cleaned_data["file"]
        return services.units_import_file(
            upload.read(),
            filename=upload.name,
            encoding=form.cleaned_data["encoding"] or None,
            dry_run=form.cleaned_data["dry_run"],
        )


class UnitKindFilter(admin.SimpleListFilter):
    title = _("单位类型")
    parameter_name = "unit_kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, Any]]:
        return list(UnitKind.choices)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value():
            return queryset.filter(unit__kind=self.value())
        return queryset


class EquipmentInline(admin.TabularInline):
    model = Equipment
    fk_name = "holder"
    fields = ["code", "kind", "model_name", "unit", "in_service"]
    autocomplete_fields = ["unit"]
    extra = 0


class VehicleInline(admin.TabularInline):
    model = Vehicle
    fk_name = "holder"
    fields = ["code", "plate", "kind", "unit", "in_service"]
    autocomplete_fields = ["unit"]
    extra = 0


@admin.register(Staff)
class StaffAdmin(TableAdmin):
    list_display = ["code", "name", "role", "unit", "phone", "active", "user"]
    list_display_links = ["code", "name"]
    list_filter = ["role", UnitKindFilter, "active"]
    search_fields = ["code", "name", "phone"]
    autocomplete_fields = ["unit", "user"]
    list_select_related = ["unit", "user"]
    list_per_page = 100
    inlines = [EquipmentInline, VehicleInline]
    import_form = StaffImportForm
    columns = STAFF_COLUMNS
    required = STAFF_REQUIRED
    export_stem = "staff"

    def export_table(self, fmt: str, queryset: QuerySet[Any]) -> bytes:
        return selectors.staff_table(fmt, queryset)

    def run_import(self, form: ImportForm) -> ImportReport:
        upload = form.cleaned_data["file"]
        return services.staff_import_file(
            upload.read(),
            filename=upload.name,
            encoding=form.cleaned_data["encoding"] or None,
            dry_run=form.cleaned_data["dry_run"],
            create_users=form.cleaned_data.get("create_users", False),
        )


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "model_name", "unit", "holder", "in_service"]
    list_filter = ["kind", "in_service", UnitKindFilter]
    search_fields = ["code", "model_name", "holder__name", "holder__code"]
    autocomplete_fields = ["unit", "holder"]
    list_select_related = ["unit", "holder"]


@admin.register(Vehicle)
class VehicleAdmin(admin.ModelAdmin):
    list_display = ["code", "plate", "kind", "unit", "holder", "in_service"]
    list_filter = ["kind", "in_service", UnitKindFilter]
    search_fields = ["code", "plate", "holder__name", "holder__code"]
    autocomplete_fields = ["unit", "holder"]
    list_select_related = ["unit", "holder"]
