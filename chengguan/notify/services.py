"""Handing messages to every configured notifier; one failing notifier never stops the others."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from chengguan.notify.backends import Notifier
from chengguan.notify.models import Notification

if TYPE_CHECKING:
    from chengguan.cases.models import Case

logger = logging.getLogger(__name__)

DEFAULT_NOTIFIERS = ("chengguan.notify.backends.InboxNotifier",)


def configured_paths() -> list[str]:
    return list(getattr(settings, "CHENGGUAN_NOTIFIERS", DEFAULT_NOTIFIERS))


def load_notifiers() -> list[tuple[str, Notifier]]:
    """The notifiers of ``CHENGGUAN_NOTIFIERS``; one that cannot be built is logged and left out."""
    loaded = []
    for path in configured_paths():
        try:
            loaded.append((path, import_string(path)()))
        except Exception:
            logger.exception("通知渠道 %s 无法加载，已跳过", path)
    return loaded


@dataclass
class Delivery:
    sent: int = 0
    failures: list[str] = field(default_factory=list)


def deliver(
    recipients: Iterable[Any], subject: str, body: str, case: Case | None = None, kind: str = ""
) -> Delivery:
    """Send one message to each recipient through every notifier.

    Each send runs in its own savepoint: a notifier that raises (a gateway that is down, a
    broken plug-in) is logged and counted, and neither the other notifiers nor the caller's
    transaction are affected.
    """
    result = Delivery()
    people = list(recipients)
    for path, notifier in load_notifiers():
        for person in people:
            try:
                with transaction.atomic():
                    notifier.send(person, subject, body, case, kind)
            except Exception as exc:
                logger.warning("通知渠道 %s 发送给 %s 失败：%s", path, person, exc, exc_info=True)
                result.failures.append(f"{path} → {person}: {exc}")
            else:
                result.sent += 1
    return result


def mark_read(user: Any, ids: Iterable[int] | None = None) -> int:
    """Marks the user's unread messages (all, or those in ``ids``) as read; returns how many."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=list(ids))
    return unread.update(read_at=timezone.now())
