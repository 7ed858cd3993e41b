"""Holiday data as rows: the bureau enters next year's State Council notice here.

The State Council General Office (国务院办公厅) publishes 《关于 N 年部分节假日安排的通知》
every November or December. Until the ``chinese_calendar`` package ships that year, each
holiday and each 调休 make-up working day of the notice is one :class:`CalendarDay`; rows
also override the package when a locality works differently.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from chengguan.core.models import TimeStampedModel


class CalendarDay(TimeStampedModel):
    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(
        _("是否工作日"),
        default=False,
        help_text=_("勾选表示上班（包括调休上班的周六、周日）；不勾选表示放假。"),
    )
    name = models.CharField(_("名称"), max_length=60, help_text=_("例如：元旦、春节、国庆节调休上班。"))
    source = models.CharField(
        _("来源"),
        max_length=200,
        blank=True,
        help_text=_("例如：国务院办公厅关于2027年部分节假日安排的通知（国办发明电〔2026〕X号）。"),
    )
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")

    def __str__(self) -> str:
        kind = "上班" if self.is_working_day else "放假"
        return f"{self.date:%Y-%m-%d} {self.name}（{kind}）"


class CalendarRevision(models.Model):
    """One row whose counter every change of CalendarDay rows bumps in the same transaction.

    Each process caches its WorkCalendar together with (version, stamp) as read when it was
    built, so a change made through any app server reaches all of them on their next read.
    The random stamp makes a key that a rolled-back change produced impossible to meet again
    (a counter alone would come back to the same number after a rollback).
    """

    version = models.PositiveBigIntegerField(_("版本"), default=0)
    stamp = models.UUIDField(_("版本标记"), default=uuid.uuid4)

    class Meta:
        verbose_name = _("日历版本")
        verbose_name_plural = _("日历版本")

    def __str__(self) -> str:
        return f"v{self.version}"
