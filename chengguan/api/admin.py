"""Admin for integrators: keys are issued here (the key is shown once) and revoked, never deleted."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from chengguan.api.models import ApiKey, Delivery, Open311Request, Scope, ServiceAttribute, Subscription


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"), choices=Scope.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = ApiKey
        fields = ("name", "scopes", "user", "note")


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = (
        "name",
        "prefix",
        "scope_list",
        "user",
        "active",
        "created_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("active",)
    search_fields = ("name", "prefix", "note")
    readonly_fields = ("prefix", "active", "created_at", "last_used_at", "revoked_at")
    actions = ["revoke"]
    autocomplete_fields = ("user",)

    @admin.display(description=_("权限范围"))
    def scope_list(self, obj: ApiKey) -> str:
        return "、".join(obj.scopes or [])

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        raw = None if change else obj.assign_new_secret()
        super().save_model(request, obj, form, change)
        if raw is not None:
            messages.warning(
                request,
                f"接口密钥「{obj.name}」已创建。密钥只显示这一次，请立即复制并安全交给接入方：{raw}",
            )

    @admin.action(description=_("吊销所选密钥"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            key.revoke()
        self.message_user(request, f"已吊销 {queryset.count()} 个密钥。")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: requests and subscriptions keep naming the key


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    list_display = ("category", "code", "description", "datatype", "required", "variable", "order")
    list_filter = ("datatype", "required")
    search_fields = ("code", "description", "category__name", "category__code")
    autocomplete_fields = ("category",)


@admin.register(Open311Request)
class Open311RequestAdmin(admin.ModelAdmin):
    list_display = ("case", "api_key", "media_url", "created_at")
    list_select_related = ("case__category", "api_key")
    readonly_fields = ("case", "api_key", "media_url", "device_id", "account_id", "attributes", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ("name", "url", "active", "api_key", "created_at")
    list_filter = ("active",)
    search_fields = ("name", "url")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = (
        "event_type",
        "subscription",
        "status",
        "attempts",
        "status_code",
        "next_attempt_at",
        "created_at",
    )
    list_filter = ("status", "event_type")
    list_select_related = ("subscription",)
    readonly_fields = [f.name for f in Delivery._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
