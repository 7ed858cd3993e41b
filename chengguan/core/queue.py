"""Shared mechanics of the huey queue."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import close_old_connections
from huey.contrib.djhuey import HUEY


def requeue_on_startup(name: str, pending: Callable[[], Iterable[Any]], task: Callable[[Any], Any]) -> None:
    """Queue ``task`` again for every id ``pending()`` finds when a worker starts.

    huey takes a task off the queue before it runs it, so a worker killed mid-task loses the
    task but not the row that says the work is still owed (its completion never committed).
    The task itself must skip work already done, so two workers starting together are harmless.
    """

    def requeue() -> None:
        if HUEY.immediate:
            return  # tests and the in-process mode have no queue to lose anything from
        try:
            for item in pending():
                task(item)
        finally:
            close_old_connections()

    HUEY.on_startup(name)(requeue)
