"""Org units (单位), their functional domains, staff and the equipment they carry.

The seed's district has one comprehensive enforcement bureau with nine functional domains,
a committee (城管委) of 42 member units, towns and subdistricts with enforcement brigades
acting in the bureau's name, grid departments, and 550 + 160 assistants in the grids.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from chengguan.core.models import TimeStampedModel


class FunctionalDomain(TimeStampedModel):
    """A field of competence (市容环卫, 规划 …). The seed names nine; a bureau may add more."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=0)
    description = models.TextField(_("说明"), blank=True)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("职能领域")
        verbose_name_plural = _("职能领域")

    def __str__(self) -> str:
        return self.name


class UnitKind(models.TextChoices):
    BUREAU = "bureau", _("局")
    COMMITTEE = "committee", _("委员会")
    DEPARTMENT = "department", _("部门")
    SUBDISTRICT = "subdistrict", _("街道")
    TOWN = "town", _("镇")
    BRIGADE = "brigade", _("执法中队")
    UTILITY = "utility", _("公用企业")
    VILLAGE = "village", _("村/社区")


TERRITORIAL_KINDS = (UnitKind.SUBDISTRICT, UnitKind.TOWN)


class OrgUnit(TimeStampedModel):
    code = models.CharField(_("单位编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    short_name = models.CharField(_("简称"), max_length=30, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=UnitKind.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # A brigade belongs to the bureau (it acts in the bureau's name) but works in one
    # town/subdistrict; a village belongs to its town. This is that territory.
    territory = models.ForeignKey(
        "self",
        verbose_name=_("所属镇街"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attached_units",
        limit_choices_to={"kind__in": TERRITORIAL_KINDS},
    )
    domains = models.ManyToManyField(
        FunctionalDomain, verbose_name=_("职能领域"), blank=True, related_name="units"
    )
    committee_member = models.BooleanField(_("城管委成员单位"), default=False, db_index=True)
    in_grid = models.BooleanField(_("入格单位"), default=False, help_text=_("参与网格化管理的单位"))
    contact_phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    active = models.BooleanField(_("在用"), default=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")

    def __str__(self) -> str:
        return self.name

    @property
    def is_territory(self) -> bool:
        return self.kind in TERRITORIAL_KINDS

    def clean(self) -> None:
        if self.territory_id is not None and self.territory is not None and not self.territory.is_territory:
            raise ValidationError({"territory": _("所属镇街必须是镇或街道。")})
        if self.kind == UnitKind.BRIGADE and self.territory_id is None:
            raise ValidationError({"territory": _("执法中队必须指定所属镇街。")})
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk and self.pk is not None:
                raise ValidationError({"parent": _("上级单位不能形成循环。")})
            ancestor = ancestor.parent


class StaffRole(models.TextChoices):
    INSPECTOR = "inspector", _("巡查员")
    ASSISTANT = "assistant", _("协管员")
    BICYCLE_ASSISTANT = "bicycle_assistant", _("自行车协管员")
    HANDLER = "handler", _("处置人员")
    DISPATCHER = "dispatcher", _("派遣员")
    OPERATOR = "operator", _("受理员")
    SHIFT_LEADER = "shift_leader", _("值班长")
    ASSESSOR = "assessor", _("考评员")
    LEADER = "leader", _("领导")
    OFFICER = "officer", _("执法队员")
    ADMINISTRATOR = "administrator", _("系统管理员")


class Staff(TimeStampedModel):
    code = models.CharField(_("工号"), max_length=32, unique=True)
    name = models.CharField(_("姓名"), max_length=50)
    role = models.CharField(_("岗位"), max_length=20, choices=StaffRole.choices, db_index=True)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="staff"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )
    phone = models.CharField(_("手机号"), max_length=20, blank=True)
    active = models.BooleanField(_("在岗"), default=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("人员")
        verbose_name_plural = _("人员")

    def __str__(self) -> str:
        return f"{self.name}（{self.get_role_display()}）"


class EquipmentKind(models.TextChoices):
    TERMINAL = "terminal", _("城管通终端")
    RECORDER = "recorder", _("执法记录仪")
    RADIO = "radio", _("对讲机")
    CAMERA = "camera", _("相机")
    UNIFORM = "uniform", _("制服装备")
    OTHER = "other", _("其他")


class Equipment(TimeStampedModel):
    code = models.CharField(_("设备编号"), max_length=40, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=EquipmentKind.choices)
    model_name = models.CharField(_("型号"), max_length=60, blank=True)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="equipment"
    )
    holder = models.ForeignKey(
        Staff,
        verbose_name=_("使用人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="equipment",
    )
    in_service = models.BooleanField(_("在用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("装备")
        verbose_name_plural = _("装备")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code}"


class VehicleKind(models.TextChoices):
    BICYCLE = "bicycle", _("自行车")
    EBIKE = "ebike", _("电动车")
    CAR = "car", _("巡查车")
    TRUCK = "truck", _("执法车/作业车")


class Vehicle(TimeStampedModel):
    code = models.CharField(_("车辆编号"), max_length=40, unique=True)
    plate = models.CharField(_("车牌号"), max_length=20, blank=True)
    kind = models.CharField(_("类型"), max_length=16, choices=VehicleKind.choices)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="vehicles"
    )
    holder = models.ForeignKey(
        Staff,
        verbose_name=_("使用人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="vehicles",
    )
    in_service = models.BooleanField(_("在用"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("车辆")
        verbose_name_plural = _("车辆")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.plate or self.code}"
