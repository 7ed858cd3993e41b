"""``chengguan deliver-webhooks``: send the webhook deliveries that are due, once.

The huey worker normally sends them (with back-off); this is for an operator checking a
receiver after an outage, or a site running without the worker.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from chengguan.api import webhooks


class Command(BaseCommand):
    help = "发送到期的事件推送（webhook），每条尝试一次"

    def handle(self, *args: Any, **options: Any) -> None:
        due = webhooks.due()
        sent = failed = 0
        for delivery_id in due:
            outcome = webhooks.attempt(delivery_id)
            if outcome.status == "succeeded":
                sent += 1
            else:
                failed += 1
        self.stdout.write(f"到期 {len(due)} 条：送达 {sent}，未送达 {failed}（未送达的按退避时间稍后重试）")
