"""Assessment (考评): the standard as versioned data, inspections, runs, score lines, measures.

The seed's 考评制度 has three tiers (六个零容忍, 十个严管理, 常规), five inspection modes, a
dual-track ranking of towns/subdistricts and of departments, plus and minus points with no cap,
and accountability measures followed up by three bodies. Everything a bureau decides — items,
points, indicator weights, accountability rules — is rows here, versioned with the standard.

A run's results and lines are snapshots: names, points and formulas are copied in, so a
published run reads the same after the standard, a unit or a finding changes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chengguan.catalog.models import AssessmentTier, Category
from chengguan.core.models import TimeStampedModel
from chengguan.org.models import OrgUnit, Staff


class FrozenError(Exception):
    """A write on something a published run has frozen; the message is for the clerk."""


class Track(models.TextChoices):
    """Which ranking an item or rule applies to (双轨制)."""

    TERRITORIAL = "territorial", _("属地（镇街）")
    DEPARTMENTAL = "departmental", _("部门")
    BOTH = "both", _("双轨")


class Subject(models.TextChoices):
    """One ranking per subject: the two tracks of units and the four posts."""

    TERRITORIAL = "territorial", _("镇街")
    DEPARTMENTAL = "departmental", _("部门")
    INSPECTOR = "inspector", _("监督员（巡查员）")
    OPERATOR = "operator", _("受理员")
    SHIFT_LEADER = "shift_leader", _("值班长")
    DISPATCHER = "dispatcher", _("派遣员")


UNIT_SUBJECTS = (Subject.TERRITORIAL, Subject.DEPARTMENTAL)
POST_SUBJECTS = (Subject.INSPECTOR, Subject.OPERATOR, Subject.SHIFT_LEADER, Subject.DISPATCHER)


class StandardStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    ACTIVE = "active", _("在用")
    RETIRED = "retired", _("已停用")


class Standard(TimeStampedModel):
    """One version of the assessment standard (考评标准)."""

    code = models.SlugField(_("标准代码"), max_length=32)
    version = models.PositiveIntegerField(_("版本"), default=1)
    name = models.CharField(_("名称"), max_length=100)
    is_sample = models.BooleanField(
        _("示例标准"), default=False, help_text=_("随演示数据提供的示例，正式使用前请按本区制度修改")
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=StandardStatus.choices, default=StandardStatus.DRAFT, db_index=True
    )
    base_score = models.DecimalField(_("基础分"), max_digits=8, decimal_places=2, default=100)
    grade_a = models.DecimalField(_("A 级下限"), max_digits=8, decimal_places=2, default=90)
    grade_b = models.DecimalField(_("B 级下限"), max_digits=8, decimal_places=2, default=75)
    grade_c = models.DecimalField(_("C 级下限"), max_digits=8, decimal_places=2, default=60)
    grade_d = models.DecimalField(_("D 级下限"), max_digits=8, decimal_places=2, default=40)
    recurrence_days = models.PositiveSmallIntegerField(
        _("复发判定天数"), default=30, help_text=_("同一单元网格同类问题在结案后多少天内再次立案计为复发")
    )
    effective_from = models.DateField(_("生效日期"), null=True, blank=True)
    source = models.CharField(_("依据文件"), max_length=200, blank=True)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="assessment_standard_version"),
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="active"), name="assessment_one_active_standard"
            ),
        ]
        verbose_name = _("考评标准")
        verbose_name_plural = _("考评标准")

    def __str__(self) -> str:
        sample = "（示例）" if self.is_sample else ""
        return f"{self.name} v{self.version}{sample}"


class Basis(models.TextChoices):
    OCCURRENCE = "occurrence", _("按次/处")
    MEASURE = "measure", _("按计量（m²、吨、米…）")


class StandardItem(models.Model):
    """One line of the standard: tier, points (minus = 扣分, plus = 加分), track, evidence."""

    standard = models.ForeignKey(
        Standard, verbose_name=_("考评标准"), on_delete=models.CASCADE, related_name="items"
    )
    code = models.CharField(_("条目编号"), max_length=16)
    tier = models.CharField(_("层级"), max_length=16, choices=AssessmentTier.choices)
    title = models.CharField(_("条目"), max_length=100)
    description = models.TextField(_("考评内容"), blank=True)
    points = models.DecimalField(
        _("分值"), max_digits=8, decimal_places=2, help_text=_("负数为扣分，正数为加分；按次或按计量单位计")
    )
    basis = models.CharField(_("计分方式"), max_length=10, choices=Basis.choices, default=Basis.OCCURRENCE)
    measure_unit = models.CharField(_("计量单位"), max_length=10, blank=True, help_text=_("如 处、m²、吨"))
    cap = models.DecimalField(
        _("单项封顶"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("本条目每期每单位最多扣（加）多少分；留空不封顶。总分不封顶。"),
    )
    track = models.CharField(_("适用考评对象"), max_length=14, choices=Track.choices, default=Track.BOTH)
    evidence_required = models.CharField(_("所需证据"), max_length=200, blank=True)
    supervisor_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("监管部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_items",
        help_text=_("一票双查时同时追究的行业监管部门"),
    )
    categories = models.ManyToManyField(
        Category, verbose_name=_("对应案件类别"), blank=True, related_name="assessment_items"
    )
    order = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        ordering = ["standard", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["standard", "code"], name="assessment_item_code")]
        verbose_name = _("考评条目")
        verbose_name_plural = _("考评条目")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


class IndicatorWeight(models.Model):
    """How one indicator counts for one subject: composite weight, and points against a target."""

    standard = models.ForeignKey(
        Standard, verbose_name=_("考评标准"), on_delete=models.CASCADE, related_name="weights"
    )
    subject = models.CharField(_("考评对象"), max_length=14, choices=Subject.choices)
    indicator = models.CharField(_("指标"), max_length=40)
    weight = models.DecimalField(
        _("综合指标权重"),
        max_digits=6,
        decimal_places=4,
        default=0,
        help_text=_("综合指标值中的权重，如 0.30"),
    )
    target = models.DecimalField(
        _("目标值"),
        max_digits=12,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("比率填小数，如 0.90"),
    )
    points = models.DecimalField(
        _("加减分系数"),
        max_digits=8,
        decimal_places=2,
        null=True,
        blank=True,
        help_text=_("计分 = 系数 × (指标值 − 目标值)；比率指标的系数按 100% 计，留空则不计分"),
    )
    min_base = models.PositiveIntegerField(
        _("最少样本"), default=0, help_text=_("分母（案件/操作数）少于此数时不计分")
    )

    class Meta:
        ordering = ["standard", "subject", "indicator"]
        constraints = [
            models.UniqueConstraint(
                fields=["standard", "subject", "indicator"], name="assessment_weight_indicator"
            )
        ]
        verbose_name = _("指标权重")
        verbose_name_plural = _("指标权重")

    def __str__(self) -> str:
        return f"{self.get_subject_display()} {self.indicator}"


class Trigger(models.TextChoices):
    FINDING_TIER = "finding_tier", _("出现该层级问题")
    LAST_PLACE = "last_place", _("连续排名末位")
    DOUBLE_CHECK = "double_check", _("一票双查")
    SCORE_BELOW = "score_below", _("得分低于")


class MeasureKind(models.TextChoices):
    CRITICISM = "criticism", _("通报批评")
    INTERVIEW = "interview", _("领导约谈")
    TRAINING = "training", _("离岗培训")
    REORGANISATION = "reorganisation", _("组织调整")
    DOUBLE_CHECK = "double_check", _("一票双查")


class Body(models.TextChoices):
    """The three bodies that follow up (三头跟进)."""

    ASSESSMENT_GROUP = "assessment_group", _("考评小组")
    DISCIPLINE = "discipline", _("纪检监察")
    ORGANISATION = "organisation", _("组织部门")


class AccountabilityRule(models.Model):
    standard = models.ForeignKey(
        Standard, verbose_name=_("考评标准"), on_delete=models.CASCADE, related_name="rules"
    )
    code = models.CharField(_("规则编号"), max_length=16)
    name = models.CharField(_("名称"), max_length=100)
    trigger = models.CharField(_("触发条件"), max_length=14, choices=Trigger.choices)
    tier = models.CharField(
        _("问题层级"),
        max_length=16,
        choices=AssessmentTier.choices,
        blank=True,
        help_text=_("按问题层级触发时"),
    )
    streak_min = models.PositiveSmallIntegerField(_("连续末位起"), null=True, blank=True)
    streak_max = models.PositiveSmallIntegerField(
        _("连续末位止"), null=True, blank=True, help_text=_("留空为及以上")
    )
    threshold = models.DecimalField(_("分数线"), max_digits=8, decimal_places=2, null=True, blank=True)
    subject = models.CharField(
        _("适用考评对象"), max_length=14, choices=Subject.choices, blank=True, help_text=_("留空为镇街和部门")
    )
    measure = models.CharField(_("追责措施"), max_length=16, choices=MeasureKind.choices)
    follow_up_body = models.CharField(_("跟进机构"), max_length=20, choices=Body.choices)
    active = models.BooleanField(_("启用"), default=True)
    order = models.PositiveIntegerField(_("排序"), default=0)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        ordering = ["standard", "order", "code"]
        constraints = [models.UniqueConstraint(fields=["standard", "code"], name="assessment_rule_code")]
        verbose_name = _("追责规则")
        verbose_name_plural = _("追责规则")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class InspectionMode(models.TextChoices):
    DAILY = "daily", _("日常巡查")
    SELF = "self", _("属地自查")
    CROSS = "cross", _("对调互查")
    SPECIAL = "special", _("专项检查")
    FOLLOW_UP = "follow_up", _("追踪督查")


class Inspection(TimeStampedModel):
    """One inspection: who inspected whom, when, in which mode."""

    mode = models.CharField(_("检查方式"), max_length=10, choices=InspectionMode.choices, db_index=True)
    title = models.CharField(_("名称"), max_length=100)
    inspecting_unit = models.ForeignKey(
        OrgUnit, verbose_name=_("检查单位"), on_delete=models.PROTECT, related_name="inspections_made"
    )
    inspected_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("被检查单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspections_received",
        help_text=_("专项检查可跨多个单位，此时留空"),
    )
    lead_inspector = models.ForeignKey(
        Staff, verbose_name=_("带队人员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    members = models.CharField(_("检查人员"), max_length=200, blank=True)
    date = models.DateField(_("检查日期"), db_index=True)
    note = models.TextField(_("说明"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), null=True, blank=True, on_delete=models.SET_NULL
    )

    class Meta:
        ordering = ["-date", "-id"]
        verbose_name = _("检查")
        verbose_name_plural = _("检查")

    def __str__(self) -> str:
        return f"{self.date} {self.get_mode_display()} {self.title}"


class FindingStatus(models.TextChoices):
    OPEN = "open", _("待整改")
    RECTIFIED = "rectified", _("已整改")
    NOT_RECTIFIED = "not_rectified", _("未整改")


class Finding(TimeStampedModel):
    """A problem found in an inspection, against one standard item, charged to one unit."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("检查"), on_delete=models.PROTECT, related_name="findings"
    )
    item = models.ForeignKey(
        StandardItem, verbose_name=_("考评条目"), on_delete=models.PROTECT, related_name="findings"
    )
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="assessment_findings"
    )
    quantity = models.DecimalField(_("数量"), max_digits=10, decimal_places=2, default=1)
    found_at = models.DateTimeField(_("发现时间"), db_index=True)
    description = models.TextField(_("问题描述"), blank=True)
    address = models.CharField(_("地点"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    grid_code = models.CharField(_("单元网格"), max_length=32, blank=True)
    responsible_person = models.CharField(_("直接责任人"), max_length=50, blank=True)
    supervisor_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("监管部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_findings",
        help_text=_("留空时取条目的监管部门"),
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("转立案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assessment_findings",
    )
    rectify_by = models.DateField(_("整改期限"), null=True, blank=True)
    status = models.CharField(
        _("整改状态"), max_length=14, choices=FindingStatus.choices, default=FindingStatus.OPEN
    )
    repeat_of = models.ForeignKey(
        "self",
        verbose_name=_("追踪督查未整改的原问题"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="repeats",
    )

    class Meta:
        ordering = ["-found_at", "-id"]
        indexes = [models.Index(fields=["found_at", "unit"], name="assess_finding_period")]
        verbose_name = _("检查发现问题")
        verbose_name_plural = _("检查发现问题")

    def __str__(self) -> str:
        return f"{self.item.code} {self.unit} {self.found_at:%Y-%m-%d}"


def finding_photo_path(instance: FindingPhoto, filename: str) -> str:
    # The stored name is ours, never the uploader's.
    folder = f"assessment/{instance.finding.found_at:%Y/%m}/{instance.finding_id}"
    return f"{folder}/{instance.token}{instance.extension}"


class FindingPhoto(models.Model):
    finding = models.ForeignKey(
        Finding, verbose_name=_("问题"), on_delete=models.PROTECT, related_name="photos"
    )
    token = models.CharField(max_length=32, unique=True)
    extension = models.CharField(max_length=8)
    file = models.FileField(_("照片"), upload_to=finding_photo_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["finding", "uploaded_at"]
        verbose_name = _("问题照片")
        verbose_name_plural = _("问题照片")

    def __str__(self) -> str:
        return f"{self.finding_id} {self.original_name}"


class CheckResult(models.TextChoices):
    RECTIFIED = "rectified", _("已整改")
    NOT_RECTIFIED = "not_rectified", _("未整改")


class FindingCheck(models.Model):
    """A follow-up inspection (追踪督查) looking at whether an earlier finding was put right."""

    inspection = models.ForeignKey(
        Inspection, verbose_name=_("追踪督查"), on_delete=models.PROTECT, related_name="checks"
    )
    finding = models.ForeignKey(
        Finding, verbose_name=_("原问题"), on_delete=models.PROTECT, related_name="checks"
    )
    result = models.CharField(_("结果"), max_length=14, choices=CheckResult.choices)
    note = models.TextField(_("说明"), blank=True)
    checked_at = models.DateTimeField(_("督查时间"))

    class Meta:
        ordering = ["finding", "checked_at"]
        verbose_name = _("追踪督查记录")
        verbose_name_plural = _("追踪督查记录")

    def __str__(self) -> str:
        return f"{self.finding_id} {self.get_result_display()}"


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年度")


class RunStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    SUPERSEDED = "superseded", _("已被新版本取代")


class AssessmentRun(TimeStampedModel):
    """One computation of one period. Published runs are frozen; a re-run is a new version."""

    standard = models.ForeignKey(
        Standard, verbose_name=_("考评标准"), on_delete=models.PROTECT, related_name="runs"
    )
    period_kind = models.CharField(_("周期"), max_length=8, choices=PeriodKind.choices)
    period_start = models.DateField(_("开始日期"))
    period_end = models.DateField(_("结束日期（不含）"))
    version = models.PositiveIntegerField(_("版本"), default=1)
    status = models.CharField(
        _("状态"), max_length=12, choices=RunStatus.choices, default=RunStatus.DRAFT, db_index=True
    )
    previous = models.ForeignKey(
        "self", verbose_name=_("上一版本"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    diff = models.JSONField(_("与上一版本的差异"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("计算人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    elapsed_ms = models.PositiveIntegerField(_("计算耗时（毫秒）"), default=0)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["-period_start", "period_kind", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["period_kind", "period_start", "version"], name="assessment_run_version"
            )
        ]
        verbose_name = _("考评结果")
        verbose_name_plural = _("考评结果")

    def __str__(self) -> str:
        return f"{self.period_label} v{self.version}（{self.get_status_display()}）"

    @property
    def period_label(self) -> str:
        start = self.period_start
        if self.period_kind == PeriodKind.MONTH:
            return f"{start.year} 年 {start.month} 月"
        if self.period_kind == PeriodKind.QUARTER:
            return f"{start.year} 年第 {(start.month - 1) // 3 + 1} 季度"
        return f"{start.year} 年度"

    @property
    def frozen(self) -> bool:
        return self.status != RunStatus.DRAFT


class _RunPart(models.Model):
    """Rows of a run: refused on save once the run is published (services and admin check first)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and self._run_status() != RunStatus.DRAFT:
            raise FrozenError("考评结果已发布，不能修改；请重新计算生成新版本。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self._run_status() != RunStatus.DRAFT:
            raise FrozenError("考评结果已发布，不能删除。")
        return super().delete(*args, **kwargs)

    def _run_status(self) -> str:
        raise NotImplementedError


class Result(_RunPart):
    """One subject's score in one run: base + Σ lines, its composite index, grade and rank."""

    run = models.ForeignKey(
        AssessmentRun, verbose_name=_("考评"), on_delete=models.CASCADE, related_name="results"
    )
    subject = models.CharField(_("考评对象"), max_length=14, choices=Subject.choices)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("人员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("名称"), max_length=100)
    base = models.DecimalField(_("基础分"), max_digits=10, decimal_places=2)
    bonus = models.DecimalField(_("加分"), max_digits=10, decimal_places=2, default=0)
    penalty = models.DecimalField(_("扣分"), max_digits=10, decimal_places=2, default=0)
    score = models.DecimalField(_("得分"), max_digits=10, decimal_places=2)
    composite = models.DecimalField(_("综合指标值"), max_digits=7, decimal_places=2, null=True, blank=True)
    grade = models.CharField(_("等级"), max_length=1)
    rank = models.PositiveIntegerField(_("名次"))
    indicators = models.JSONField(_("指标值"), default=dict, blank=True)

    class Meta:
        ordering = ["run", "subject", "rank", "name"]
        indexes = [models.Index(fields=["run", "subject", "rank"], name="assess_result_rank")]
        verbose_name = _("考评得分")
        verbose_name_plural = _("考评得分")

    def __str__(self) -> str:
        return f"{self.name} {self.score}"

    def _run_status(self) -> str:
        return AssessmentRun.objects.filter(pk=self.run_id).values_list("status", flat=True).first() or ""

    @property
    def subject_key(self) -> str:
        return f"unit:{self.unit_id}" if self.unit_id else f"staff:{self.staff_id}"


class LineSource(models.TextChoices):
    FINDING = "finding", _("检查发现")
    INDICATOR = "indicator", _("案件指标")


class ScoreLine(_RunPart):
    """One plus or minus: the points, the formula, and the finding or indicator behind them."""

    result = models.ForeignKey(Result, verbose_name=_("得分"), on_delete=models.CASCADE, related_name="lines")
    source = models.CharField(_("来源"), max_length=10, choices=LineSource.choices)
    points = models.DecimalField(_("分值"), max_digits=10, decimal_places=2)
    raw_points = models.DecimalField(_("封顶前分值"), max_digits=10, decimal_places=2)
    label = models.CharField(_("事项"), max_length=200)
    formula = models.CharField(_("计算式"), max_length=300)
    item = models.ForeignKey(
        StandardItem,
        verbose_name=_("考评条目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    finding = models.ForeignKey(
        Finding,
        verbose_name=_("检查发现"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lines",
    )
    indicator = models.CharField(_("指标"), max_length=40, blank=True)
    tier = models.CharField(_("层级"), max_length=16, choices=AssessmentTier.choices, blank=True)

    class Meta:
        ordering = ["result", "id"]
        verbose_name = _("得分明细")
        verbose_name_plural = _("得分明细")

    def __str__(self) -> str:
        return f"{self.label} {self.points}"

    def _run_status(self) -> str:
        return Result.objects.filter(pk=self.result_id).values_list("run__status", flat=True).first() or ""


class MeasureStatus(models.TextChoices):
    PROPOSED = "proposed", _("拟追责")
    CONFIRMED = "confirmed", _("已确认")
    IN_PROGRESS = "in_progress", _("落实中")
    DONE = "done", _("已落实")
    WITHDRAWN = "withdrawn", _("已撤销")


class Party(models.TextChoices):
    DIRECT = "direct", _("直接责任")
    SUPERVISOR = "supervisor", _("监管责任")


class Measure(TimeStampedModel):
    """An accountability measure a rule proposed, and where its follow-up stands."""

    run = models.ForeignKey(
        AssessmentRun, verbose_name=_("考评"), on_delete=models.CASCADE, related_name="measures"
    )
    rule = models.ForeignKey(
        AccountabilityRule, verbose_name=_("追责规则"), on_delete=models.PROTECT, related_name="measures"
    )
    kind = models.CharField(_("措施"), max_length=16, choices=MeasureKind.choices)
    subject = models.CharField(_("考评对象"), max_length=14, choices=Subject.choices)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("人员"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    party = models.CharField(_("责任类型"), max_length=10, choices=Party.choices, default=Party.DIRECT)
    person = models.CharField(_("责任人"), max_length=50, blank=True)
    reason = models.TextField(_("事由"))
    finding = models.ForeignKey(
        Finding, verbose_name=_("检查发现"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    refs = models.JSONField(_("依据记录"), default=dict, blank=True)
    follow_up_body = models.CharField(_("跟进机构"), max_length=20, choices=Body.choices)
    status = models.CharField(
        _("状态"), max_length=12, choices=MeasureStatus.choices, default=MeasureStatus.PROPOSED, db_index=True
    )

    class Meta:
        ordering = ["run", "kind", "id"]
        verbose_name = _("追责措施")
        verbose_name_plural = _("追责措施")

    def __str__(self) -> str:
        who = self.unit.name if self.unit else (self.staff.name if self.staff else self.person)
        return f"{self.get_kind_display()} {who}"


class MeasureFollowUp(models.Model):
    """One follow-up step on a measure by one of the three bodies. Append-only."""

    measure = models.ForeignKey(
        Measure, verbose_name=_("追责措施"), on_delete=models.PROTECT, related_name="follow_ups"
    )
    body = models.CharField(_("跟进机构"), max_length=20, choices=Body.choices)
    from_status = models.CharField(_("原状态"), max_length=12, choices=MeasureStatus.choices)
    to_status = models.CharField(_("新状态"), max_length=12, choices=MeasureStatus.choices)
    note = models.TextField(_("说明"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(_("时间"))

    class Meta:
        ordering = ["measure", "at", "id"]
        verbose_name = _("追责跟进记录")
        verbose_name_plural = _("追责跟进记录")

    def __str__(self) -> str:
        return f"{self.measure_id} {self.get_to_status_display()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise FrozenError("跟进记录只能追加，不能修改。")
        super().save(*args, **kwargs)
