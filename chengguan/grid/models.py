"""The four-level grid (管理、责任、区域、单元网格) and the people responsible for each cell.

Geometry is stored as WKB in WGS-84 in a plain binary column: the project runs on plain
SQLite and PostgreSQL without GIS extensions, so coarse spatial queries (the map viewport)
use the bounding-box columns and exact work happens in Shapely in Python.

Every import or generation creates a new :class:`GridLayer` (a grid version). A layer only
becomes the active grid when its validation report is clean or a user explicitly accepts it;
the previous layer is retired, never deleted, so the district's grid history stays traceable.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from chengguan.core.models import TimeStampedModel
from chengguan.org.models import TERRITORIAL_KINDS, OrgUnit, Staff


class GridLevel(models.IntegerChoices):
    MANAGEMENT = 1, _("管理网格")
    RESPONSIBILITY = 2, _("责任网格")
    AREA = 3, _("区域网格")
    UNIT = 4, _("单元网格")


class LayerStatus(models.TextChoices):
    DRAFT = "draft", _("待启用")
    ACTIVE = "active", _("在用")
    RETIRED = "retired", _("已停用")


class LayerSource(models.TextChoices):
    IMPORTED = "imported", _("文件导入")
    GENERATED = "generated", _("自动生成")
    DEMO = "demo", _("演示数据")


class GridLayer(TimeStampedModel):
    """One version of the district's grid: all its cells, its validation report, its state."""

    name = models.CharField(_("名称"), max_length=100)
    source = models.CharField(_("来源"), max_length=16, choices=LayerSource.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=LayerStatus.choices, default=LayerStatus.DRAFT, db_index=True
    )
    # Bumped whenever the cells of the layer change after creation, so every process holding
    # an in-memory locator notices and rebuilds it (the layer id alone does not change then).
    revision = models.PositiveIntegerField(_("修订号"), default=1)
    boundary = models.BinaryField(_("辖区边界（WKB）"), null=True, blank=True)
    lattice = models.JSONField(
        _("规则格网参数"), null=True, blank=True, help_text=_("自动生成的网格记录其经纬度格网，用于快速定位")
    )
    source_files = models.TextField(_("源文件"), blank=True)
    report = models.JSONField(_("校验报告"), default=dict, blank=True)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    warning_count = models.PositiveIntegerField(_("警告数"), default=0)
    report_accepted = models.BooleanField(_("已接受校验报告"), default=False)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接受人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)
    # Hash of everything a generated layer was built from; the demo uses it to stay idempotent.
    fingerprint = models.CharField(_("生成指纹"), max_length=64, blank=True, db_index=True)
    note = models.TextField(_("备注"), blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="active"), name="grid_layer_one_active"
            )
        ]
        verbose_name = _("网格版本")
        verbose_name_plural = _("网格版本")

    def __str__(self) -> str:
        return f"{self.name}（{self.get_status_display()}）"


class GridCell(models.Model):
    layer = models.ForeignKey(
        GridLayer, verbose_name=_("网格版本"), on_delete=models.CASCADE, related_name="cells"
    )
    level = models.PositiveSmallIntegerField(_("层级"), choices=GridLevel.choices)
    code = models.CharField(_("网格编码"), max_length=32)
    name = models.CharField(_("名称"), max_length=100)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级网格"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    territory = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属镇街"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grid_cells",
        limit_choices_to={"kind__in": TERRITORIAL_KINDS},
    )
    geometry = models.BinaryField(_("几何（WKB，WGS-84）"))
    min_lon = models.FloatField(_("最小经度"))
    min_lat = models.FloatField(_("最小纬度"))
    max_lon = models.FloatField(_("最大经度"))
    max_lat = models.FloatField(_("最大纬度"))
    # A point guaranteed inside the cell, where the map writes its name.
    label_lon = models.FloatField(_("标注经度"))
    label_lat = models.FloatField(_("标注纬度"))
    area_m2 = models.FloatField(_("面积（平方米）"))
    properties = models.JSONField(_("源数据属性"), default=dict, blank=True)

    class Meta:
        ordering = ["layer", "level", "code"]
        constraints = [models.UniqueConstraint(fields=["layer", "code"], name="grid_cell_unique_code")]
        indexes = [
            models.Index(fields=["layer", "level", "min_lon", "min_lat"], name="grid_cell_bbox"),
        ]
        verbose_name = _("网格")
        verbose_name_plural = _("网格")

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class DutyRole(models.TextChoices):
    GRID_LEADER = "grid_leader", _("网格长")
    INSPECTOR = "inspector", _("巡查员")
    ASSISTANT = "assistant", _("协管员")
    POLICE = "police", _("网格民警")
    DEPARTMENT_LIAISON = "department_liaison", _("部门联络员")


class GridDuty(TimeStampedModel):
    """A person responsible for a cell in a role; liaisons name the grid department they speak for.

    Duties hang on cells of one layer; activating a new layer carries them over to the cells
    with the same code, so replacing the grid does not lose who is responsible where.
    """

    cell = models.ForeignKey(
        GridCell, verbose_name=_("网格"), on_delete=models.CASCADE, related_name="duties"
    )
    staff = models.ForeignKey(
        Staff, verbose_name=_("人员"), on_delete=models.PROTECT, related_name="grid_duties"
    )
    role = models.CharField(_("职责"), max_length=24, choices=DutyRole.choices)
    department = models.ForeignKey(
        OrgUnit,
        verbose_name=_("入格部门"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grid_liaisons",
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        ordering = ["cell", "role", "staff"]
        constraints = [models.UniqueConstraint(fields=["cell", "staff", "role"], name="grid_duty_unique")]
        verbose_name = _("网格责任人")
        verbose_name_plural = _("网格责任人")

    def __str__(self) -> str:
        return f"{self.cell.code} {self.get_role_display()} {self.staff.name}"


class ComponentState(models.TextChoices):
    INTACT = "intact", _("完好")
    DAMAGED = "damaged", _("破损")
    LOST = "lost", _("丢失")
    SCRAPPED = "scrapped", _("废弃")
    REMOVED = "removed", _("移除")


class Component(TimeStampedModel):
    """A managed object of the component inventory (部件普查): a manhole cover, a street light …

    Its 17-digit identifier is 6-digit county + 5-digit category + 6-digit sequence
    (GB/T 47678.5). The unit grid it lies in is kept as a code and refreshed whenever a new
    grid version is activated, so counts per grid stay right.
    """

    code = models.CharField(
        _("部件标识码"),
        max_length=17,
        unique=True,
        validators=[
            RegexValidator(r"^\d{17}$", _("部件标识码应为 17 位数字（6 位区划 + 5 位类别 + 6 位顺序码）。"))
        ],
    )
    category = models.ForeignKey(
        "catalog.Category",
        verbose_name=_("部件类别"),
        on_delete=models.PROTECT,
        related_name="components",
        limit_choices_to={"kind": "component"},
    )
    name = models.CharField(_("名称"), max_length=100, blank=True)
    lon = models.FloatField(_("经度"))
    lat = models.FloatField(_("纬度"))
    unit_grid = models.CharField(_("所在单元网格"), max_length=32, blank=True, db_index=True)
    state = models.CharField(
        _("状态"), max_length=12, choices=ComponentState.choices, default=ComponentState.INTACT
    )
    owner = models.ForeignKey(
        OrgUnit,
        verbose_name=_("权属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_components",
    )
    maintainer = models.ForeignKey(
        OrgUnit,
        verbose_name=_("养护单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="maintained_components",
    )
    address = models.CharField(_("位置描述"), max_length=200, blank=True)
    properties = models.JSONField(_("源数据属性"), default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        indexes = [models.Index(fields=["lon", "lat"], name="grid_component_position")]
        verbose_name = _("部件")
        verbose_name_plural = _("部件（部件普查）")

    def __str__(self) -> str:
        return f"{self.code} {self.name or self.category.name}"
