"""Integrators and what they leave behind: API keys, Open311 extras, webhook subscriptions.

A key is shown once, when it is made; only its SHA-256 is stored (keys are 190-bit random
strings, so a fast hash is enough and a lookup stays one indexed query). Keys are revoked,
never deleted, so the requests they created still name them.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from chengguan.cases.models import Case
from chengguan.catalog.models import Category


class Scope(models.TextChoices):
    OPEN311_WRITE = "open311:write", _("Open311 上报")
    CASES_READ = "cases:read", _("读取案件")
    CASES_WRITE = "cases:write", _("上报案件与流转操作")
    REGISTRIES_READ = "registries:read", _("读取目录、单位与网格")
    WEBHOOKS_MANAGE = "webhooks:manage", _("管理事件订阅")
    # Citizens' real names and numbers, on request (?reveal=contact) and logged each time.
    PERSONAL_READ = "personal:read", _("查看举报人联系方式（逐次留痕）")


KEY_PREFIX = "cg"


def hash_key(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class ApiKey(models.Model):
    name = models.CharField(_("接入方名称"), max_length=100)
    prefix = models.CharField(_("密钥前缀"), max_length=16, editable=False, db_index=True)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("权限范围"), default=list, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代表的账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_keys",
        help_text=_("流转操作以该账号（及其岗位）的身份执行；只读或 Open311 接入可不填"),
    )
    active = models.BooleanField(_("有效"), default=True)
    note = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("接口密钥")
        verbose_name_plural = _("接口密钥")

    def __str__(self) -> str:
        return f"{self.name}（{self.prefix}…）"

    @classmethod
    def issue(cls, name: str, scopes: list[str], **fields: object) -> tuple[ApiKey, str]:
        """A new key; the clear text is returned once and never stored."""
        prefix = f"{KEY_PREFIX}_{secrets.token_hex(4)}"
        raw = f"{prefix}_{secrets.token_urlsafe(24)}"
        key = cls.objects.create(name=name, prefix=prefix, key_hash=hash_key(raw), scopes=scopes, **fields)
        return key, raw

    def assign_new_secret(self) -> str:
        """Fill prefix and hash of an unsaved key (the admin's add form); returns the clear text."""
        self.prefix = f"{KEY_PREFIX}_{secrets.token_hex(4)}"
        raw = f"{self.prefix}_{secrets.token_urlsafe(24)}"
        self.key_hash = hash_key(raw)
        return raw

    def revoke(self) -> None:
        if self.active:
            self.active = False
            self.revoked_at = timezone.now()
            self.save(update_fields=["active", "revoked_at"])

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])


class Datatype(models.TextChoices):
    STRING = "string", _("短文本")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("长文本")
    SINGLE = "singlevaluelist", _("单选")
    MULTI = "multivaluelist", _("多选")


class ServiceAttribute(models.Model):
    """An extra question an Open311 app asks for one category (GeoReport service definition)."""

    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="open311_attributes"
    )
    code = models.SlugField(_("属性编码"), max_length=40)
    description = models.CharField(_("提示"), max_length=200)
    datatype = models.CharField(_("类型"), max_length=16, choices=Datatype.choices, default=Datatype.STRING)
    datatype_description = models.CharField(_("类型说明"), max_length=200, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    variable = models.BooleanField(_("需要填写"), default=True, help_text=_("不勾选则仅向用户展示说明"))
    order = models.PositiveSmallIntegerField(_("排序"), default=1)
    values = models.JSONField(
        _("选项"), default=list, blank=True, help_text=_('单选/多选的选项：[{"key": "1", "name": "…"}]')
    )

    class Meta:
        ordering = ["category", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["category", "code"], name="api_attribute_code")]
        verbose_name = _("Open311 属性")
        verbose_name_plural = _("Open311 属性")

    def __str__(self) -> str:
        return f"{self.category.code} {self.code}"

    def value_keys(self) -> set[str]:
        return {str(v.get("key")) for v in self.values or [] if isinstance(v, dict)}


class Open311Request(models.Model):
    """What an Open311 app sent beyond the case itself, and which key sent it."""

    case = models.OneToOneField(
        Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="open311"
    )
    api_key = models.ForeignKey(
        ApiKey, verbose_name=_("接口密钥"), on_delete=models.PROTECT, related_name="open311_requests"
    )
    media_url = models.URLField(_("图片链接"), max_length=500, blank=True)
    device_id = models.CharField(_("设备号"), max_length=100, blank=True)
    account_id = models.CharField(_("应用账号"), max_length=100, blank=True)
    attributes = models.JSONField(_("属性"), default=dict, blank=True)
    created_at = models.DateTimeField(_("接收时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("Open311 请求")
        verbose_name_plural = _("Open311 请求")

    def __str__(self) -> str:
        return f"{self.case_id} via {self.api_key_id}"


ALL_EVENTS = "*"


class Subscription(models.Model):
    name = models.CharField(_("名称"), max_length=100)
    url = models.URLField(_("接收地址"), max_length=500)
    secret = models.CharField(_("签名密钥"), max_length=100, help_text=_("HMAC-SHA256 签名用"))
    event_types = models.JSONField(
        _("事件类型"),
        default=list,
        blank=True,
        help_text=_('如 ["case.report", "case.dispatch"]；["*"] 表示全部案件事件'),
    )
    active = models.BooleanField(_("启用"), default=True)
    api_key = models.ForeignKey(
        ApiKey,
        verbose_name=_("所属接入方"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subscriptions",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("事件订阅")
        verbose_name_plural = _("事件订阅")

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        types = self.event_types or []
        return ALL_EVENTS in types or event_type in types


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("待投递")
    SUCCEEDED = "succeeded", _("已送达")
    FAILED = "failed", _("已放弃")


class Delivery(models.Model):
    subscription = models.ForeignKey(
        Subscription, verbose_name=_("订阅"), on_delete=models.PROTECT, related_name="deliveries"
    )
    event_type = models.CharField(_("事件类型"), max_length=40)
    event_id = models.BigIntegerField(_("流转记录"))
    payload = models.JSONField(_("内容"))
    status = models.CharField(
        _("状态"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    status_code = models.PositiveSmallIntegerField(_("最近响应码"), null=True, blank=True)
    error = models.TextField(_("最近错误"), blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True, db_index=True)
    last_attempt_at = models.DateTimeField(_("最近尝试"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["subscription", "event_id"], name="api_delivery_once")]
        verbose_name = _("事件投递")
        verbose_name_plural = _("事件投递")

    def __str__(self) -> str:
        return f"{self.event_type} → {self.subscription_id} ({self.status})"
