"""The in-app inbox and the record of one-off reminders already sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    DISPATCHED = "dispatched", _("新派遣案件")
    VERIFY_TASK = "verify_task", _("核实任务")
    CHECK_TASK = "check_task", _("核查任务")
    RETURNED = "returned", _("案件回退")
    EXTENSION = "extension", _("延期申请")
    SUPERVISED = "supervised", _("督办")
    OVERDUE = "overdue", _("超期")
    WARNING = "warning", _("即将超期")
    OTHER = "other", _("其他")


class Notification(models.Model):
    """One message in a user's inbox. The inbox is the default notifier, so nothing is lost
    when the SMS or WeChat gateway is down."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        on_delete=models.CASCADE,
        related_name="notifications",
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notifications",
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices, default=Kind.OTHER)
    subject = models.CharField(_("标题"), max_length=120)
    text = models.TextField(_("内容"), blank=True)
    created = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "created"], name="notify_inbox")]
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.subject}"


class Reminder(models.Model):
    """A reminder sent once for one run of a case's step clock (the 80 % warning).

    A run is identified by its step, start and deadline: an approved extension or a
    resumption after deferral moves the deadline, and a warning may then be due again.
    """

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="reminders"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    step = models.CharField(_("环节"), max_length=10)
    started_at = models.DateTimeField(_("环节开始"))
    deadline = models.DateTimeField(_("环节截止"))
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    # The receipt: set, by the task that sends the messages, in the transaction of the inbox
    # rows. A reminder without it was decided but its task was lost (a worker killed, a queue
    # that was down) and is queued again; a task run twice finds it set and sends nothing.
    delivered_at = models.DateTimeField(_("发出时间"), null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind", "step", "started_at", "deadline"], name="notify_reminder_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["sent_at"],
                name="notify_reminder_undelivered",
                condition=models.Q(delivered_at__isnull=True),
            )
        ]
        verbose_name = _("已发提醒")
        verbose_name_plural = _("已发提醒")

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.step}"


class EventNotice(models.Model):
    """The receipt that a case event's message went out, written in the same transaction as
    its inbox rows. A worker killed mid-delivery leaves none, so the message is sent again by
    the next worker (see ``cases.tasks``); a task run twice finds it and sends nothing."""

    event_id = models.BigIntegerField(_("流转记录"), primary_key=True)
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)

    class Meta:
        verbose_name = _("事件通知回执")
        verbose_name_plural = _("事件通知回执")

    def __str__(self) -> str:
        return f"{self.event_id} @ {self.sent_at:%Y-%m-%d %H:%M}"
