"""Admin pages where a bureau edits its catalogue settings, time limits and powers list."""

from __future__ import annotations

import datetime as dt

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chengguan.catalog.models import Category, LegacyCode, PowerItem, TimeLimit
from chengguan.catalog.selectors import powers_in_force


class TimeLimitInline(admin.TabularInline):
    model = TimeLimit
    extra = 0
    fields = ("step", "area_class", "work_kind", "hours", "source")
    verbose_name = _("环节时限")
    verbose_name_plural = _("环节时限")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = (
        "kind",
        "code",
        "name",
        "major_name",
        "domain",
        "assessment_tier",
        "disposition_mode",
        "round_the_clock",
        "public",
        "active",
    )
    list_display_links = ("code", "name")
    list_filter = (
        "kind",
        "major_code",
        "domain",
        "assessment_tier",
        "disposition_mode",
        "round_the_clock",
        "public",
        "active",
    )
    search_fields = ("code", "name", "major_name")
    list_select_related = ("domain",)
    list_per_page = 100
    national_fields = ("kind", "code", "major_code", "major_name", "name", "standard")
    fieldsets = (
        (_("国家标准"), {"fields": ("kind", "code", "major_code", "major_name", "name", "standard")}),
        (
            _("本地设置"),
            {
                "fields": (
                    "domain",
                    "legal_basis",
                    "registration_criteria",
                    "closure_criteria",
                    "assessment_tier",
                    "disposition_mode",
                    "round_the_clock",
                    "public",
                    "active",
                )
            },
        ),
    )
    inlines = (TimeLimitInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Category | None = None) -> tuple[str, ...]:
        # The national catalogue fixes code and names (load_catalog refreshes them); a bureau
        # edits its local settings, and may add a local category of its own.
        return self.national_fields if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        # Cases and legacy codes point at categories; retire one by unticking 在用.
        return False


class MatchedFilter(admin.SimpleListFilter):
    title = _("是否已对应")
    parameter_name = "matched"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", str(_("已对应"))), ("no", str(_("未对应")))]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "yes":
            return queryset.filter(category__isnull=False)
        if self.value() == "no":
            return queryset.filter(category__isnull=True)
        return queryset


@admin.register(LegacyCode)
class LegacyCodeAdmin(admin.ModelAdmin):
    list_display = ("kind", "code", "name", "major_name", "category", "match", "note")
    list_display_links = ("code", "name")
    list_filter = (MatchedFilter, "match", "kind")
    search_fields = ("code", "name", "category__code", "category__name")
    list_select_related = ("category",)
    autocomplete_fields = ("category",)
    readonly_fields = ("kind", "code", "name", "major_name")
    fields = ("kind", "code", "name", "major_name", "category", "match", "note")
    list_per_page = 100

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin):
    list_display = ("category", "step", "area_class", "work_kind", "hours", "source", "updated_at")
    list_filter = ("step", "area_class", "work_kind", "category__kind", "category__major_code")
    search_fields = ("category__code", "category__name", "source")
    list_select_related = ("category",)
    autocomplete_fields = ("category",)
    list_per_page = 100


class EffectiveFilter(admin.SimpleListFilter):
    title = _("生效状态")
    parameter_name = "effective"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("current", str(_("现行有效"))),
            ("future", str(_("尚未生效"))),
            ("expired", str(_("已失效"))),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        today: dt.date = timezone.localdate()
        if self.value() == "current":
            # A later version of the same code supersedes an open-ended earlier one.
            return queryset.filter(pk__in=[item.pk for item in powers_in_force(today)])
        if self.value() == "future":
            return queryset.filter(effective_from__gt=today)
        if self.value() == "expired":
            return queryset.filter(effective_to__lt=today)
        return queryset


@admin.register(PowerItem)
class PowerItemAdmin(admin.ModelAdmin):
    list_display = (
        "code",
        "name",
        "domain",
        "responsible_unit_kind",
        "effective_from",
        "effective_to",
        "legal_basis",
    )
    list_display_links = ("code", "name")
    list_filter = (EffectiveFilter, "domain", "responsible_unit_kind", "effective_from")
    search_fields = ("code", "name", "legal_basis", "note")
    list_select_related = ("domain",)
    autocomplete_fields = ("categories",)
    date_hierarchy = "effective_from"
    list_per_page = 100
