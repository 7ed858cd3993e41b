"""Rows of the dashboard app: simulation runs and the daily summary of cases.

The case tables stay the truth. :class:`DailyCaseStat` holds, per local day of report and
per unit, territory, category, channel and disposition mode, the same additive counts the
dashboard computes from cases (``figures.Measures``); :class:`SummaryDay` records which days
have been summarised and when, so queries can take whole summarised days from the summary
and everything else (today, days changed since) from the cases themselves.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class SimulationRun(models.Model):
    """One ``chengguan simulate`` batch: which seed wrote how many cases into which span."""

    seed = models.BigIntegerField(_("随机种子"))
    batch = models.PositiveIntegerField(_("批次"), default=0, help_text=_("--append 追加的批次从 1 起"))
    cases = models.PositiveIntegerField(_("案件数"))
    events = models.PositiveIntegerField(_("流转记录数"), default=0)
    years = models.FloatField(_("年数"))
    first_day = models.DateField(_("起始日"))
    end_at = models.DateTimeField(_("截止时刻"))
    parameters = models.JSONField(_("参数"), default=dict, blank=True)
    summary = models.JSONField(_("结果摘要"), default=dict, blank=True)
    created_at = models.DateTimeField(_("运行时间"), auto_now_add=True)
    seconds = models.FloatField(_("耗时（秒）"), default=0)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["seed", "batch"], name="dashboard_sim_seed_batch")]
        verbose_name = _("模拟运行")
        verbose_name_plural = _("模拟运行")

    def __str__(self) -> str:
        return f"seed {self.seed} #{self.batch}: {self.cases} 件"


class Grain(models.TextChoices):
    """The roll-ups of the daily summary: each keeps the day and only the dimensions it names."""

    DISTRICT = "district", _("全区（来源、处置方式）")
    TERRITORY = "territory", _("镇街（来源、处置方式）")
    UNIT = "unit", _("主办单位（来源、处置方式）")
    MAJOR = "major", _("大类（来源、处置方式）")
    CATEGORY = "category", _("小类")
    TOWN_MAJOR = "town_major", _("镇街 × 大类（来源、处置方式）")


class DailyCaseStat(models.Model):
    """Additive counts of the cases reported on one local day, per roll-up and group.

    A row's size is bounded by the dimensions of its roll-up, not by the number of cases:
    the district roll-up has at most 8 channels × 3 modes rows a day however many cases
    there are, so the queries on it take the same time at 10⁵ or 10⁷ cases a year.
    """

    grain = models.CharField(_("汇总粒度"), max_length=10, choices=Grain.choices)
    day = models.DateField(_("上报日期"))
    territory_id = models.BigIntegerField(_("所属镇街"), null=True)
    lead_unit_id = models.BigIntegerField(_("主办单位"), null=True)
    kind = models.CharField(_("类别"), max_length=10, blank=True)
    major_code = models.CharField(_("大类编码"), max_length=2, blank=True)
    category_id = models.BigIntegerField(_("小类"), null=True)
    channel = models.CharField(_("来源"), max_length=12, blank=True)
    disposition_mode = models.CharField(_("处置方式"), max_length=12, blank=True)
    reported = models.PositiveIntegerField(default=0)
    valid = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    handled = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    reworked = models.PositiveIntegerField(default=0)
    extended = models.PositiveIntegerField(default=0)
    rated = models.PositiveIntegerField(default=0)
    satisfied = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["grain", "day"], name="dash_stat_grain_day"),
            models.Index(fields=["grain", "territory_id", "day"], name="dash_stat_grain_town_day"),
        ]
        verbose_name = _("案件日汇总")
        verbose_name_plural = _("案件日汇总")

    def __str__(self) -> str:
        return f"{self.grain} {self.day} {self.reported}"


class SummaryDay(models.Model):
    """A local day whose cases are summarised in :class:`DailyCaseStat`, and as of when."""

    day = models.DateField(_("日期"), primary_key=True)
    refreshed_at = models.DateTimeField(_("汇总时间"))
    cases = models.PositiveIntegerField(_("案件数"), default=0)

    class Meta:
        ordering = ["day"]
        verbose_name = _("已汇总日期")
        verbose_name_plural = _("已汇总日期")

    def __str__(self) -> str:
        return f"{self.day} @ {self.refreshed_at:%Y-%m-%d %H:%M}"


class SummaryState(models.Model):
    """One row: case changes up to this moment are in the summary (the refresh task's bookmark)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    changes_until = models.DateTimeField(_("已汇总的变更截至"), null=True, blank=True)

    class Meta:
        verbose_name = _("汇总进度")
        verbose_name_plural = _("汇总进度")

    def __str__(self) -> str:
        return f"{self.changes_until}"
