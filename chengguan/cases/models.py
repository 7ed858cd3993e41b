"""Cases (案件) and their append-only history.

A case keeps the grid codes and territory it was located in when reported: grids are
re-imported over the years, and a case must still say where it was. Its history is a list of
events that is only ever appended to; the case row carries the current state for queues.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from chengguan.cases.workflow import OPEN, STATUS_LABELS, Status
from chengguan.catalog.models import AreaClass, Category, DispositionMode, WorkKind
from chengguan.org.models import OrgUnit, Staff

STATUS_CHOICES = [(s.value, label) for s, label in STATUS_LABELS.items()]
# The open statuses, sorted: the partial indexes on open cases and the queries meant to use
# them must spell the list identically (SQLite matches a partial index's condition term for
# term, in order).
OPEN_VALUES = sorted(s.value for s in OPEN)


class Channel(models.TextChoices):
    PATROL = "patrol", _("巡查上报")
    WEB = "web", _("市民网页")
    HOTLINE = "hotline", _("12345 热线")
    OPEN311 = "open311", _("Open311 应用")
    CAMERA = "camera", _("视频/AI 识别")
    DRONE = "drone", _("无人机")
    LEADER = "leader", _("领导交办")
    MEDIA = "media", _("媒体曝光")


PUBLIC_CHANNELS = (Channel.WEB, Channel.HOTLINE, Channel.OPEN311, Channel.MEDIA)


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class Light(models.TextChoices):
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("预警")
    RED = "red", _("超期")
    NONE = "none", _("不计时")


class Case(models.Model):
    # Unique through Meta.constraints, not unique=True: on PostgreSQL that would add a second
    # (varchar_pattern_ops) index on every insert, for prefix searches no query makes.
    code = models.CharField(_("案件编号"), max_length=20)
    channel = models.CharField(_("来源"), max_length=12, choices=Channel.choices)
    # Index-free foreign keys below are served by a composite index (see Meta and the
    # dashboard's case indexes): each index is written on every one of 10⁷ yearly inserts.
    category = models.ForeignKey(
        Category, verbose_name=_("类别"), on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    description = models.TextField(_("问题描述"), max_length=4000)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    lon = models.FloatField(_("经度"), null=True, blank=True)
    territory = models.ForeignKey(
        OrgUnit,
        verbose_name=_("所属镇街"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases_here",
        db_index=False,
    )
    unit_grid = models.CharField(_("单元网格"), max_length=32, blank=True)
    area_grid = models.CharField(_("区域网格"), max_length=32, blank=True)
    responsibility_grid = models.CharField(_("责任网格"), max_length=32, blank=True)
    management_grid = models.CharField(_("管理网格"), max_length=32, blank=True)
    area_class = models.CharField(_("区域类别"), max_length=1, choices=AreaClass.choices, default=AreaClass.B)
    work_kind = models.CharField(
        _("处置类型"), max_length=12, choices=WorkKind.choices, default=WorkKind.ORDINARY
    )
    reporter_staff = models.ForeignKey(
        Staff,
        verbose_name=_("上报人员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_cases",
    )
    reporter_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上报账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reported_cases",
    )
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    quantity = models.DecimalField(_("数量"), max_digits=12, decimal_places=2, null=True, blank=True)
    quantity_unit = models.CharField(_("数量单位"), max_length=10, blank=True, help_text=_("如 m²、吨、处"))
    tags = models.JSONField(_("专项标签"), default=list, blank=True)
    disposition_mode = models.CharField(
        _("处置方式"), max_length=12, choices=DispositionMode.choices, default=DispositionMode.SERVICE
    )
    lead_unit = models.ForeignKey(
        OrgUnit,
        verbose_name=_("主办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_cases",
        db_index=False,
    )
    co_handlers = models.ManyToManyField(
        OrgUnit, verbose_name=_("协办单位"), blank=True, related_name="co_cases"
    )
    routing_note = models.CharField(_("派遣依据"), max_length=200, blank=True)
    assigned_inspector = models.ForeignKey(
        Staff,
        verbose_name=_("核实/核查巡查员"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inspection_tasks",
        db_index=False,
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("重复于"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        db_index=False,
    )
    status = models.CharField(_("状态"), max_length=20, choices=STATUS_CHOICES)
    step = models.CharField(_("当前计时环节"), max_length=10, blank=True)
    step_started_at = models.DateTimeField(_("环节开始"), null=True, blank=True)
    step_limit_hours = models.DecimalField(
        _("环节时限（工作时）"), max_digits=8, decimal_places=2, null=True, blank=True
    )
    step_extra_hours = models.DecimalField(
        _("顺延时间（工作时）"),
        max_digits=8,
        decimal_places=2,
        default=0,
        help_text=_("批准延期与挂账时间累加于此"),
    )
    paused_at = models.DateTimeField(_("暂停计时于"), null=True, blank=True)
    deadline = models.DateTimeField(_("环节截止"), null=True, blank=True, db_index=True)
    handle_deadline = models.DateTimeField(_("处置截止"), null=True, blank=True)
    round_the_clock = models.BooleanField(_("全天候计时"), default=False)
    supervision_level = models.PositiveSmallIntegerField(_("督办级别"), default=0)
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    return_count = models.PositiveSmallIntegerField(_("回退次数"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    overdue_flagged = models.BooleanField(_("已标记超期"), default=False)
    satisfaction = models.PositiveSmallIntegerField(_("满意度"), null=True, blank=True)
    reported_at = models.DateTimeField(_("上报时间"), db_index=True)
    registered_at = models.DateTimeField(_("立案时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    handled_at = models.DateTimeField(_("反馈时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True, db_index=True)
    handled_on_time = models.BooleanField(_("按期处置"), null=True, blank=True)
    # Optimistic lock: each transition bumps it; a stale form loses with a clear message.
    version = models.PositiveIntegerField(_("版本"), default=1)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        ordering = ["-reported_at"]
        constraints = [models.UniqueConstraint(fields=["code"], name="case_code_unique")]
        indexes = [
            # Also every lookup by status alone (its leading column).
            models.Index(fields=["status", "deadline"], name="case_queue"),
            # Also every lookup by lead unit alone (the PROTECT check, the unit pages).
            models.Index(fields=["lead_unit", "status"], name="case_unit_inbox"),
            # Also every lookup by category alone.
            models.Index(fields=["category", "reported_at"], name="case_category_time"),
            models.Index(fields=["unit_grid"], name="case_unit_grid"),
            # The command queue: open cases in deadline order, read one page at a time. Partial,
            # so a filter that keeps few of them (a channel, a light) still walks this small
            # index in order instead of sorting, on SQLite too.
            models.Index(
                fields=["deadline"], name="case_open_queue", condition=models.Q(status__in=OPEN_VALUES)
            ),
            # The queue filtered by channel (public complaints, hotline…): same order, per channel.
            models.Index(
                fields=["channel", "deadline"],
                name="case_open_channel",
                condition=models.Q(status__in=OPEN_VALUES),
            ),
            # Paused clocks (deferrals) are rare: the queue's "paused" light reads them here.
            models.Index(
                fields=["deadline"], name="case_paused", condition=models.Q(paused_at__isnull=False)
            ),
            # Almost every row has no inspector task and is nobody's duplicate: partial
            # indexes cost nothing on those inserts and still answer "= some id".
            models.Index(
                fields=["assigned_inspector"],
                name="case_inspector_task",
                condition=models.Q(assigned_inspector__isnull=False),
            ),
            models.Index(
                fields=["duplicate_of"],
                name="case_duplicate_of",
                condition=models.Q(duplicate_of__isnull=False),
            ),
        ]
        verbose_name = _("案件")
        verbose_name_plural = _("案件")

    def __str__(self) -> str:
        return f"{self.code} {self.category.name}"

    @property
    def status_enum(self) -> Status:
        return Status(self.status)


class CitizenContact(models.Model):
    """A citizen reporter's contact details, kept apart so lists and exports never carry them."""

    case = models.OneToOneField(
        Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="citizen"
    )
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("电话"), max_length=20, blank=True)
    email = models.EmailField(_("邮箱"), blank=True)
    # The citizen follows the case with this token (Open311 token / web follow code).
    follow_token = models.CharField(_("查询码"), max_length=40, unique=True)

    class Meta:
        verbose_name = _("举报人联系方式")
        verbose_name_plural = _("举报人联系方式")

    def __str__(self) -> str:
        return f"{self.case.code} 举报人"


class AppendOnlyError(Exception):
    pass


class CaseEvent(models.Model):
    """One step in a case's history. Never updated, never deleted."""

    case = models.ForeignKey(Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="events")
    seq = models.PositiveIntegerField(_("序号"))
    action = models.CharField(_("操作"), max_length=30)
    label = models.CharField(_("操作名称"), max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_name = models.CharField(_("操作人姓名"), max_length=60, blank=True)
    actor_role = models.CharField(_("岗位"), max_length=20, blank=True)
    from_status = models.CharField(_("原状态"), max_length=20, blank=True)
    to_status = models.CharField(_("新状态"), max_length=20)
    at = models.DateTimeField(_("时间"), db_index=True)
    note = models.TextField(_("说明"), blank=True)
    deadline_before = models.DateTimeField(_("原截止时间"), null=True, blank=True)
    deadline_after = models.DateTimeField(_("新截止时间"), null=True, blank=True)
    data = models.JSONField(_("附加数据"), default=dict, blank=True)

    class Meta:
        ordering = ["case", "seq"]
        constraints = [models.UniqueConstraint(fields=["case", "seq"], name="case_event_seq")]
        verbose_name = _("案件流转记录")
        verbose_name_plural = _("案件流转记录")

    def __str__(self) -> str:
        return f"{self.case_id}#{self.seq} {self.label}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise AppendOnlyError("案件流转记录只能追加，不能修改。")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("案件流转记录不能删除。")


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name is ours, never the uploader's: no traversal, no clashes.
    return (
        f"cases/{instance.case.reported_at:%Y/%m}/{instance.case.code}/{instance.token}{instance.extension}"
    )


class AttachmentKind(models.TextChoices):
    BEFORE = "before", _("处置前")
    AFTER = "after", _("处置后")
    EVIDENCE = "evidence", _("核查/证据")


class Attachment(models.Model):
    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.PROTECT, related_name="attachments"
    )
    event = models.ForeignKey(
        CaseEvent,
        verbose_name=_("流转记录"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    kind = models.CharField(_("类型"), max_length=10, choices=AttachmentKind.choices)
    token = models.CharField(max_length=32, unique=True)
    extension = models.CharField(max_length=8)
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        ordering = ["case", "uploaded_at"]
        verbose_name = _("照片/附件")
        verbose_name_plural = _("照片/附件")

    def __str__(self) -> str:
        return f"{self.case.code} {self.get_kind_display()}"


class DailyCounter(models.Model):
    """Per-day sequence behind readable case codes (YYYYMMDD + 5 digits)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("编号计数")
        verbose_name_plural = _("编号计数")

    def __str__(self) -> str:
        return f"{self.day:%Y%m%d} → {self.last}"
