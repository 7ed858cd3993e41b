"""Reads of the inbox for pages and badges."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from chengguan.notify.models import Notification


def inbox(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    messages = Notification.objects.filter(recipient=user).select_related("case")
    return messages.filter(read_at__isnull=True) if unread_only else messages


def unread_count(user: Any) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
