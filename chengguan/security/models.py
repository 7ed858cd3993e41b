"""Audit of views of citizens' personal data (个人信息查看留痕)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditLogError(Exception):
    pass


class PersonalDataAccess(models.Model):
    """One showing of a citizen's contact details to a member of staff. Never changed."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("查看人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    username = models.CharField(_("账号"), max_length=150, blank=True)
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    case_code = models.CharField(_("案件编号"), max_length=20, blank=True, db_index=True)
    fields = models.JSONField(_("查看字段"), default=list)
    where = models.CharField(_("查看位置"), max_length=200, help_text=_("页面、接口或导出的名称/路径"))
    reason = models.CharField(_("事由"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["user", "at"], name="pda_user_at")]
        verbose_name = _("个人信息查看记录")
        verbose_name_plural = _("个人信息查看记录")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.case_code} {','.join(self.fields)}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AuditLogError("个人信息查看记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AuditLogError("个人信息查看记录不能删除。")
