"""The task queue: huey on SQLite (default) and on Redis (production), the periodic schedule."""

from __future__ import annotations

import datetime as dt
import socket
import uuid

import pytest
from django.conf import settings
from huey import RedisHuey, SqliteHuey
from huey.contrib.djhuey import HUEY

from chengguan.cases import tasks

REDIS_URL = "redis://127.0.0.1:6379/15"


def redis_reachable() -> tuple[bool, str]:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True, ""
    except OSError as exc:
        return False, f"Redis at 127.0.0.1:6379 is not reachable ({exc.strerror or exc})"


def roundtrip(huey) -> list[int]:
    """Enqueue a task, then take it off the queue and run it as a consumer's worker would."""
    done: list[int] = []

    @huey.task()
    def add(a: int, b: int) -> int:
        done.append(a + b)
        return a + b

    add(2, 3)
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())
    assert huey.pending_count() == 0
    return done


def test_tests_run_tasks_in_process() -> None:
    assert HUEY.immediate, "under pytest the queue must not reach var/ or Redis"


def test_the_default_queue_is_a_sqlite_file_under_var() -> None:
    assert settings.CHENGGUAN_QUEUE == "sqlite" or settings.CHENGGUAN_REDIS_URL
    if settings.CHENGGUAN_QUEUE == "sqlite":
        assert settings.HUEY["huey_class"] == "huey.SqliteHuey"
        assert settings.HUEY["filename"].endswith(".sqlite3")


def test_a_sqlite_queue_keeps_tasks_until_a_worker_takes_them(tmp_path) -> None:
    huey = SqliteHuey("chengguan-test", filename=str(tmp_path / "queue.sqlite3"))
    assert roundtrip(huey) == [5]


def test_a_redis_queue_keeps_tasks_until_a_worker_takes_them() -> None:
    reachable, reason = redis_reachable()
    if not reachable:
        pytest.skip(reason)
    huey = RedisHuey(f"chengguan-test-{uuid.uuid4().hex[:8]}", url=REDIS_URL)
    try:
        assert roundtrip(huey) == [5]
    finally:
        huey.storage.flush_all()


def test_the_overdue_sweep_runs_every_minute() -> None:
    start = dt.datetime(2026, 11, 23, 9, 0)
    minutes = [start + dt.timedelta(minutes=m) for m in range(0, 24 * 60, 7)]
    for moment in minutes:
        due = {task.name for task in HUEY.read_periodic(moment)}
        assert tasks.flag_overdue.name in due, moment
