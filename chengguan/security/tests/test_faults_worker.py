"""A worker killed (SIGKILL) in the middle of a webhook delivery loses nothing.

The real worker (``manage.py run_huey``) runs as a child process on a SQLite queue file and
the PostgreSQL test database; the receiver is a local HTTP server that holds the first POST
open, so the worker is certainly mid-job when it is killed. A second worker is started and
the delivery arrives: at least once, the repeat carrying the same ``X-Chengguan-Delivery`` id
for the receiver to drop it by, and the Delivery row records one successful attempt.
"""

from __future__ import annotations

import http.server
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from chengguan.api import webhooks
from chengguan.api.models import Delivery, DeliveryStatus, Subscription
from chengguan.cases.models import CaseEvent
from chengguan.web.tests.conftest import Site, build_site

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Receiver:
    """Records every POST; holds the first one ``hold`` picks open until released."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    first_arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""
    hold: Any = None  # (headers, body) -> bool; None: the first POST


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the name http.server calls
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            held = state.hold(self.headers, body) if state.hold else not state.posts
            state.posts.append(
                {
                    "delivery": self.headers.get(webhooks.DELIVERY_HEADER, ""),
                    "event": self.headers.get(webhooks.EVENT_HEADER, ""),
                    "body": body,
                }
            )
            if held and not state.first_arrived.is_set():
                state.first_arrived.set()
                state.release.wait(timeout=60)  # the worker is killed while we hold this
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:  # only the processes this test started, by their id
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def app_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a process of the deployment: the test database, a file queue."""
    db = connection.settings_dict
    host, port = db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{port}/{db['NAME']}",
        "CHENGGUAN_QUEUE": "sqlite",
        "CHENGGUAN_QUEUE_PATH": str(tmp_path / "queue.sqlite3"),
        "CHENGGUAN_QUEUE_NAME": "faults-test",
        "CHENGGUAN_QUEUE_IMMEDIATE": "0",
        "CHENGGUAN_LOG_LEVEL": "ERROR",
        **extra,
    }
    return env


def start_worker(
    tmp_path: Path, started: list[subprocess.Popen[bytes]], **extra: str
) -> subprocess.Popen[bytes]:
    log = (tmp_path / f"worker{len(started)}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "run_huey", "--workers", "1"],
        cwd=ROOT,
        env=app_env(tmp_path, **extra),
        stdout=log,
        stderr=log,
    )
    started.append(process)
    return process


def in_web_process(tmp_path: Path, code: str) -> None:
    """Run ``code`` in a process of its own, as a web server would, queueing to the file queue."""
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=app_env(tmp_path),
        check=True,
        capture_output=True,
        timeout=120,
    )


def wait_until(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_delivery_loses_no_webhook(
    tmp_path: Path, receiver: Receiver, workers: list[subprocess.Popen[bytes]]
) -> None:
    site: Site = build_site()
    case = site.to("to_dispatch")
    Subscription.objects.create(
        name="受理系统", url=receiver.url, secret="s3cret-for-test", event_types=["case.dispatch"]
    )
    first = start_worker(tmp_path, workers)
    # The step happens in a process of its own, as on a web server: its commit hook writes the
    # Delivery row and puts the task on the running worker's queue (the only copy of it).
    in_web_process(tmp_path, dispatch_code(case))
    event = CaseEvent.objects.get(case=case, action="dispatch")
    [delivery_id] = Delivery.objects.filter(event_id=event.pk).values_list("pk", flat=True)
    assert receiver.first_arrived.wait(timeout=60), (tmp_path / "worker0.log").read_text(errors="replace")
    os.kill(first.pid, signal.SIGKILL)  # mid-job: the POST is open, the attempt uncommitted
    first.wait(timeout=30)
    receiver.release.set()  # the held request finishes into a dead socket
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0

    start_worker(tmp_path, workers)
    wait_until(
        lambda: Delivery.objects.get(pk=delivery_id).status == DeliveryStatus.SUCCEEDED,
        60,
        "the restarted worker to deliver",
    )
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.attempts == 1 and delivery.status_code == 200 and delivery.delivered_at is not None
    # At least once: the killed attempt's POST and the real one, with one id to drop by.
    assert [p["delivery"] for p in receiver.posts] == [str(delivery_id)] * 2
    assert {p["event"] for p in receiver.posts} == {"case.dispatch"}


def dispatch_code(case: Any) -> str:
    return (
        "from django.contrib.auth.models import User\n"
        "from chengguan.cases import services\n"
        f"services.transition({case.pk}, services.TransitionInput(action='dispatch', "
        f"expected_version={case.version}), User.objects.get(username='dispatcher'))"
    )


def test_a_worker_killed_mid_notification_loses_none(
    tmp_path: Path, receiver: Receiver, workers: list[subprocess.Popen[bytes]]
) -> None:
    from chengguan.notify.models import EventNotice, Notification

    site: Site = build_site()
    earlier, case = site.to("to_dispatch"), site.to("to_dispatch", description="第二件")
    # The SMS gateway is the receiver; it holds the second case's message (the first passes,
    # so the site has sent messages before, as a running site has).
    receiver.hold = lambda headers, body: case.code.encode() in body
    gateway = {
        "CHENGGUAN_NOTIFIERS": ",".join(
            f"chengguan.notify.backends.{name}" for name in ("InboxNotifier", "GatewayNotifier")
        ),
        "CHENGGUAN_NOTIFY_GATEWAY_URL": receiver.url,
        "CHENGGUAN_NOTIFY_GATEWAY_TIMEOUT": "30",
    }
    first = start_worker(tmp_path, workers, **gateway)
    in_web_process(tmp_path, dispatch_code(earlier))
    wait_until(lambda: EventNotice.objects.exists(), 60, "the first message to go out")

    in_web_process(tmp_path, dispatch_code(case))
    assert receiver.first_arrived.wait(timeout=60), (tmp_path / "worker0.log").read_text(errors="replace")
    os.kill(first.pid, signal.SIGKILL)  # mid-job: inbox row written, not committed; SMS open
    first.wait(timeout=30)
    receiver.release.set()
    event = CaseEvent.objects.get(case=case, action="dispatch")
    assert not EventNotice.objects.filter(event_id=event.pk).exists()
    assert not Notification.objects.filter(case=case).exists()

    start_worker(tmp_path, workers, **gateway)
    wait_until(
        lambda: EventNotice.objects.filter(event_id=event.pk).exists(), 60, "the message after restart"
    )
    handler = site.users["handler"]
    # Exactly once in the inbox; at least once through the gateway (the killed send and the new one).
    assert list(Notification.objects.filter(case=case).values_list("recipient", "kind")) == [
        (handler.pk, "dispatched")
    ]
    sms = [p for p in receiver.posts if case.code.encode() in p["body"]]
    assert len(sms) == 2
