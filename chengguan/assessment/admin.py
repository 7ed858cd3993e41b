"""Admin for assessment: the standard is edited here (or imported); published runs are read-only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from chengguan.assessment import rows, services
from chengguan.assessment.models import (
    AccountabilityRule,
    AssessmentRun,
    Finding,
    FindingCheck,
    FindingPhoto,
    FrozenError,
    IndicatorWeight,
    Inspection,
    Measure,
    MeasureFollowUp,
    Result,
    RunStatus,
    ScoreLine,
    Standard,
    StandardItem,
)
from chengguan.cases.forms import check_photo
from chengguan.core.tabular import ImportReport


class LockedByStandard:
    """Inline/child admin that turns read-only once the standard is used by a published run."""

    def _locked(self, obj: Any) -> bool:
        standard = obj if isinstance(obj, Standard) else getattr(obj, "standard", None)
        return bool(standard and standard.pk and services.standard_locked(standard))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._locked(obj) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._locked(obj) and super().has_add_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._locked(obj) and super().has_delete_permission(request, obj)  # type: ignore[misc]


class ItemInline(LockedByStandard, admin.TabularInline):
    model = StandardItem
    extra = 0
    fields = [
        "code",
        "tier",
        "title",
        "points",
        "basis",
        "measure_unit",
        "cap",
        "track",
        "supervisor_unit",
        "order",
    ]
    autocomplete_fields = ["supervisor_unit"]


class WeightInline(LockedByStandard, admin.TabularInline):
    model = IndicatorWeight
    extra = 0
    fields = ["subject", "indicator", "weight", "target", "points", "min_base"]


class RuleInline(LockedByStandard, admin.TabularInline):
    model = AccountabilityRule
    extra = 0
    fields = [
        "code",
        "name",
        "trigger",
        "tier",
        "streak_min",
        "streak_max",
        "threshold",
        "subject",
        "measure",
        "follow_up_body",
        "active",
        "order",
    ]


TABLES = [("items", _("考评条目")), ("weights", _("指标权重")), ("rules", _("追责规则"))]
LOADERS: dict[str, Callable[..., ImportReport]] = {
    "items": services.import_items,
    "weights": services.import_weights,
    "rules": services.import_rules,
}


class StandardImportForm(forms.Form):
    table = forms.ChoiceField(label=_("表"), choices=TABLES)
    file = forms.FileField(label=_("文件"), help_text=_("CSV 或 XLSX，第一行为列名"))
    encoding = forms.ChoiceField(
        label=_("CSV 编码"), choices=[("", "UTF-8"), ("gbk", "GBK"), ("gb18030", "GB18030")], required=False
    )
    dry_run = forms.BooleanField(label=_("只校验，不写入"), required=False, initial=True)


COLUMNS = {"items": rows.ITEM_COLUMNS, "weights": rows.WEIGHT_COLUMNS, "rules": rows.RULE_COLUMNS}


@admin.register(Standard)
class StandardAdmin(LockedByStandard, admin.ModelAdmin):
    list_display = ["name", "code", "version", "status", "is_sample", "base_score", "effective_from"]
    list_filter = ["status", "is_sample"]
    inlines = [ItemInline, WeightInline, RuleInline]
    actions = ["copy_as_new_version", "activate"]
    change_form_template = "admin/assessment/standard_change_form.html"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return admin.ModelAdmin.has_add_permission(self, request)

    @admin.action(description=_("复制为新版本（草稿）"))
    def copy_as_new_version(self, request: HttpRequest, queryset: QuerySet[Standard]) -> None:
        for standard in queryset:
            copy = services.copy_standard(standard)
            self.message_user(request, f"已复制为 {copy}")

    @admin.action(description=_("启用（停用原在用版本）"))
    def activate(self, request: HttpRequest, queryset: QuerySet[Standard]) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个版本启用。"), messages.ERROR)
            return
        standard = services.activate_standard(queryset.get())
        self.message_user(request, f"已启用 {standard}")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.import_view)
        return [path("<int:pk>/import/", view, name="assessment_standard_import"), *super().get_urls()]

    def import_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        standard = Standard.objects.filter(pk=pk).first()
        if standard is None or not self.has_change_permission(request, standard):
            raise PermissionDenied
        report = None
        table = "items"
        if request.method == "POST":
            form = StandardImportForm(request.POST, request.FILES)
            if form.is_valid():
                table = form.cleaned_data["table"]
                upload = form.cleaned_data["file"]
                loader = LOADERS[table]
                report = loader(
                    standard,
                    upload.read(),
                    filename=upload.name,
                    encoding=form.cleaned_data["encoding"] or None,
                    dry_run=form.cleaned_data["dry_run"],
                )
        else:
            form = StandardImportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": standard,
            "title": f"导入到 {standard}",
            "form": form,
            "report": report,
            "columns": [(str(label), COLUMNS[key]) for key, label in TABLES],
            "table": table,
        }
        return TemplateResponse(request, "admin/assessment/import.html", context)


class PhotoForm(forms.ModelForm):
    upload = forms.FileField(label=_("照片"), required=False, help_text=_("JPG、PNG 或 WebP，10 MB 以内"))

    class Meta:
        model = FindingPhoto
        fields: list[str] = []

    def clean_upload(self) -> Any:
        upload = self.cleaned_data.get("upload")
        return check_photo(upload) if upload else None


class PhotoInline(admin.TabularInline):
    model = FindingPhoto
    form = PhotoForm
    extra = 1
    fields = ["upload", "file", "size", "uploaded_at"]
    readonly_fields = ["file", "size", "uploaded_at"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CheckInline(admin.TabularInline):
    model = FindingCheck
    fk_name = "finding"
    extra = 0
    fields = ["inspection", "result", "note", "checked_at"]
    readonly_fields = ["inspection", "result", "note", "checked_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["found_at", "unit", "item", "quantity", "inspection", "status", "case"]
    list_filter = ["item__tier", "status", "inspection__mode"]
    search_fields = ["unit__name", "item__title", "description", "address"]
    date_hierarchy = "found_at"
    autocomplete_fields = ["unit", "supervisor_unit"]
    raw_id_fields = ["inspection", "item", "case", "repeat_of"]
    inlines = [PhotoInline, CheckInline]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and services.finding_locked(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # 全程留痕: findings are corrected by re-running, never deleted

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is FindingPhoto:
            photos = [f.cleaned_data["upload"] for f in formset.forms if f.cleaned_data.get("upload")]
            services.attach_photos(form.instance, photos)
            return
        super().save_formset(request, form, formset, change)

    def save_model(self, request: HttpRequest, obj: Finding, form: Any, change: bool) -> None:
        try:
            services.ensure_finding_editable(obj)
        except FrozenError as exc:
            raise PermissionDenied(str(exc)) from exc
        super().save_model(request, obj, form, change)


class FindingInline(admin.TabularInline):
    model = Finding
    fk_name = "inspection"
    extra = 0
    fields = ["item", "unit", "quantity", "found_at", "description", "status"]
    raw_id_fields = ["item", "unit"]
    show_change_link = True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Inspection)
class InspectionAdmin(admin.ModelAdmin):
    list_display = ["date", "mode", "title", "inspecting_unit", "inspected_unit"]
    list_filter = ["mode"]
    search_fields = ["title", "inspecting_unit__name", "inspected_unit__name"]
    autocomplete_fields = ["inspecting_unit", "inspected_unit", "lead_inspector"]
    inlines = [FindingInline]
    exclude = ["created_by"]

    def save_model(self, request: HttpRequest, obj: Inspection, form: Any, change: bool) -> None:
        data = services.InspectionInput(
            mode=obj.mode,
            title=obj.title,
            inspecting_unit=obj.inspecting_unit,
            inspected_unit=obj.inspected_unit,
            date=obj.date,
        )
        try:
            services.validate_inspection(data)
        except services.AssessmentError as exc:
            raise PermissionDenied(str(exc)) from exc
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)


class ReadOnly:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LineInline(ReadOnly, admin.TabularInline):
    model = ScoreLine
    extra = 0
    fields = ["source", "label", "formula", "points", "finding", "indicator"]
    readonly_fields = ["source", "label", "formula", "points", "finding", "indicator"]


@admin.register(Result)
class ResultAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["name", "subject", "run", "score", "rank", "grade"]
    list_filter = ["subject", "run__status"]
    search_fields = ["name"]
    inlines = [LineInline]


@admin.register(AssessmentRun)
class RunAdmin(admin.ModelAdmin):
    """Runs are made by the run service; here only a draft's note may change, and drafts may be deleted."""

    list_display = [
        "period_label",
        "period_kind",
        "version",
        "status",
        "standard",
        "created_at",
        "elapsed_ms",
    ]
    list_filter = ["period_kind", "status"]
    readonly_fields = [
        "standard",
        "period_kind",
        "period_start",
        "period_end",
        "version",
        "status",
        "previous",
        "diff",
        "created_by",
        "published_at",
        "published_by",
        "elapsed_ms",
    ]
    actions = ["publish"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != RunStatus.DRAFT:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status != RunStatus.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: AssessmentRun) -> None:
        services.discard_draft(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AssessmentRun]) -> None:
        for run in queryset:
            services.discard_draft(run)

    def response_change(self, request: HttpRequest, obj: AssessmentRun) -> HttpResponse:
        return HttpResponseRedirect(reverse("assessment:run", args=[obj.pk]))

    @admin.action(description=_("发布所选考评结果（发布后冻结）"))
    def publish(self, request: HttpRequest, queryset: QuerySet[AssessmentRun]) -> None:
        for run in queryset:
            try:
                services.publish(run, request.user)
            except (FrozenError, services.AssessmentError) as exc:
                self.message_user(request, f"{run}：{exc}", messages.ERROR)
            else:
                self.message_user(request, f"已发布 {run}")


class FollowUpInline(ReadOnly, admin.TabularInline):
    model = MeasureFollowUp
    extra = 0
    fields = ["at", "body", "from_status", "to_status", "note", "by"]
    readonly_fields = ["at", "body", "from_status", "to_status", "note", "by"]


@admin.register(Measure)
class MeasureAdmin(ReadOnly, admin.ModelAdmin):
    list_display = ["kind", "unit", "staff", "party", "run", "follow_up_body", "status"]
    list_filter = ["kind", "status", "follow_up_body"]
    search_fields = ["unit__name", "staff__name", "reason"]
    inlines = [FollowUpInline]
