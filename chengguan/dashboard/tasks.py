"""Background job: keep the dashboard's daily summary fresh (run by the huey consumer)."""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from chengguan.dashboard import summary

logger = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/5"))
def refresh_dashboard_summary() -> None:
    days, rows = summary.refresh_changed()
    if days:
        logger.info("统计日汇总：重算 %s 天，%s 行", days, rows)
