"""Queue tasks of the API app: webhook deliveries with exponential back-off."""

from __future__ import annotations

import datetime as dt

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task
from huey.exceptions import RetryTask

from chengguan.api import webhooks
from chengguan.core.queue import requeue_on_startup


@db_task(name="api.deliver_webhook")
def deliver_webhook(delivery_id: int) -> None:
    """One attempt; on failure the queue runs this again after the back-off delay."""
    outcome = webhooks.attempt(delivery_id)
    if outcome.retry_in is not None:
        raise RetryTask(f"webhook delivery {delivery_id} failed", delay=outcome.retry_in)


@db_periodic_task(crontab(minute="*/5"), name="api.sweep_webhooks")
def sweep_webhooks() -> None:
    """Re-queue deliveries whose retry was lost (a worker restarted with a memory queue)."""
    for delivery_id in webhooks.due(grace=dt.timedelta(minutes=10)):
        deliver_webhook(delivery_id)


# A worker killed in the middle of a delivery lost the queued task but not the Delivery row:
# its attempt never committed, so the row is still pending and due, and a starting worker
# queues it again at once rather than after the sweep's grace. That is at least once: a
# receiver that had already got the killed POST gets it again with the same
# X-Chengguan-Delivery id to drop it by; ``attempt`` locks the row and skips it once it is no
# longer pending.
requeue_on_startup("api.requeue_webhooks", webhooks.due, deliver_webhook)
