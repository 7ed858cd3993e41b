"""The problem catalogue: components (部件) and matters (事项), time limits, powers list.

The national catalogue (GB/T 47678.5-2026) fixes codes and names; everything a bureau decides
locally — registration and closure criteria, time limits, tiers, disposition mode — is data
on the same rows, edited in the admin or imported from a file.
"""

from __future__ import annotations

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from chengguan.core.models import TimeStampedModel
from chengguan.org.models import FunctionalDomain, UnitKind


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("部件")
    MATTER = "matter", _("事项")


class AssessmentTier(models.TextChoices):
    ZERO_TOLERANCE = "zero_tolerance", _("零容忍")
    STRICT = "strict", _("严管理")
    ROUTINE = "routine", _("常规")


class DispositionMode(models.TextChoices):
    """The 721 working method: 70 % service, 20 % management, 10 % enforcement."""

    SERVICE = "service", _("服务")
    MANAGEMENT = "management", _("管理")
    ENFORCEMENT = "enforcement", _("执法")


class Category(TimeStampedModel):
    kind = models.CharField(_("类别"), max_length=10, choices=CategoryKind.choices)
    code = models.CharField(
        _("编码"),
        max_length=5,
        validators=[RegexValidator(r"^\d{5}$", _("编码应为 5 位数字（2 位大类 + 3 位小类）。"))],
    )
    major_code = models.CharField(_("大类编码"), max_length=2)
    major_name = models.CharField(_("大类名称"), max_length=50)
    name = models.CharField(_("小类名称"), max_length=100)
    standard = models.CharField(_("依据标准"), max_length=60, default="GB/T 47678.5-2026")
    domain = models.ForeignKey(
        FunctionalDomain,
        verbose_name=_("职能领域"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="categories",
    )
    legal_basis = models.TextField(_("法律依据"), blank=True)
    registration_criteria = models.TextField(_("立案条件"), blank=True)
    closure_criteria = models.TextField(_("结案条件"), blank=True)
    assessment_tier = models.CharField(
        _("考评层级"), max_length=16, choices=AssessmentTier.choices, default=AssessmentTier.ROUTINE
    )
    disposition_mode = models.CharField(
        _("默认处置方式"), max_length=12, choices=DispositionMode.choices, default=DispositionMode.SERVICE
    )
    round_the_clock = models.BooleanField(
        _("全天候计时"), default=False, help_text=_("紧急事项按自然时间连续计时")
    )
    public = models.BooleanField(_("向公众开放"), default=True, help_text=_("市民可通过网页和 Open311 上报"))
    active = models.BooleanField(_("在用"), default=True)
    # What load_catalog last wrote into the local fields and time limits, so a re-run can
    # tell a bureau's edit (kept) from an untouched sample value (refreshed).
    shipped = models.JSONField(_("上次载入的示例值"), default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="catalog_category_kind_code")]
        verbose_name = _("部件事项类别")
        verbose_name_plural = _("部件事项类别")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code} {self.name}"


class MatchMethod(models.TextChoices):
    """How the crosswalk found the 2026 category of a 2013 code."""

    CODE_RULE = "code_rule", _("编码规则")
    SAME_NAME = "same_name", _("同名")
    MANUAL = "manual", _("人工对照")
    UNMATCHED = "unmatched", _("未对应")


class LegacyCode(models.Model):
    """A GB/T 30428.2-2013 code as running systems and legacy data still carry it.

    2013 events (事件) are stored with kind ``matter``, the 2026 word for the same thing.
    """

    kind = models.CharField(_("类别"), max_length=10, choices=CategoryKind.choices)
    code = models.CharField(_("旧编码"), max_length=4)
    name = models.CharField(_("旧名称"), max_length=100)
    major_name = models.CharField(_("旧大类名称"), max_length=50, blank=True)
    category = models.ForeignKey(
        Category,
        verbose_name=_("对应新类别"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="legacy_codes",
    )
    match = models.CharField(
        _("对应方式"), max_length=10, choices=MatchMethod.choices, default=MatchMethod.UNMATCHED
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    shipped = models.JSONField(_("上次载入的对照值"), default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["kind", "code"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="catalog_legacy_kind_code")]
        verbose_name = _("旧标准编码对照")
        verbose_name_plural = _("旧标准编码对照")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Step(models.TextChoices):
    VERIFY = "verify", _("核实")
    REGISTER = "register", _("立案")
    DISPATCH = "dispatch", _("派遣")
    HANDLE = "handle", _("处置")
    CHECK = "check", _("核查")


class AreaClass(models.TextChoices):
    A = "A", _("A类（核心区）")
    B = "B", _("B类（一般区）")
    C = "C", _("C类（外围区）")


class WorkKind(models.TextChoices):
    ORDINARY = "ordinary", _("一般性")
    ENGINEERING = "engineering", _("工程性")
    SPECIAL = "special", _("特殊性")


class TimeLimit(TimeStampedModel):
    """A step's limit in working hours; blank area class / kind of work means "any"."""

    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.CASCADE, related_name="time_limits"
    )
    step = models.CharField(_("环节"), max_length=10, choices=Step.choices)
    area_class = models.CharField(_("区域类别"), max_length=1, choices=AreaClass.choices, blank=True)
    work_kind = models.CharField(_("处置类型"), max_length=12, choices=WorkKind.choices, blank=True)
    hours = models.DecimalField(
        _("时限（工作时）"), max_digits=7, decimal_places=2, validators=[MinValueValidator(0.01)]
    )
    source = models.CharField(_("来源"), max_length=200, blank=True)

    class Meta:
        ordering = ["category", "step", "area_class", "work_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "step", "area_class", "work_kind"], name="catalog_timelimit_unique"
            )
        ]
        verbose_name = _("环节时限")
        verbose_name_plural = _("环节时限")

    def __str__(self) -> str:
        return f"{self.category} {self.get_step_display()} {self.hours}h"


class PowerItem(TimeStampedModel):
    """One entry of the powers list (权责清单). A change is a new row with new dates."""

    code = models.CharField(_("事项编码"), max_length=40)
    name = models.CharField(_("事项名称"), max_length=200)
    domain = models.ForeignKey(
        FunctionalDomain, verbose_name=_("职能领域"), on_delete=models.PROTECT, related_name="powers"
    )
    legal_basis = models.TextField(_("法律依据"))
    responsible_unit_kind = models.CharField(_("责任单位类型"), max_length=16, choices=UnitKind.choices)
    effective_from = models.DateField(_("生效日期"))
    effective_to = models.DateField(_("失效日期"), null=True, blank=True)
    categories = models.ManyToManyField(
        Category, verbose_name=_("相关类别"), blank=True, related_name="powers"
    )
    note = models.TextField(_("备注"), blank=True)
    shipped = models.JSONField(_("上次载入的示例值"), default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["code", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["code", "effective_from"], name="catalog_power_version")
        ]
        verbose_name = _("权责清单事项")
        verbose_name_plural = _("权责清单")

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
