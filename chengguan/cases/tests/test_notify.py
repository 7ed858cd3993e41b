"""Who is told what, after the commit; notifiers that fail never undo a workflow step."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.core import checks
from huey import RedisHuey
from huey.contrib.djhuey import HUEY

from chengguan.cases.models import Case
from chengguan.cases.tests.conftest import at
from chengguan.cases.workflow import Status, WorkflowError
from chengguan.notify import selectors as inbox
from chengguan.notify import services as notify_services
from chengguan.notify.backends import GatewayNotifier, NotifyError
from chengguan.notify.models import Notification

MON = "2026-11-23"
INBOX = "chengguan.notify.backends.InboxNotifier"
GATEWAY = "chengguan.notify.backends.GatewayNotifier"


class BrokenNotifier:
    """A plug-in whose every send fails, as a misconfigured gateway client would."""

    def send(self, recipient: Any, subject: str, body: str, case: Any, kind: str = "") -> None:
        raise RuntimeError("短信平台账号已欠费")


BROKEN = f"{__name__}.BrokenNotifier"


def messages(username: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient__username=username).order_by("pk"))


@pytest.fixture
def act(world, django_capture_on_commit_callbacks):
    """``world.act`` whose after-commit hooks run as a real commit would run them (the test's
    transaction never commits); huey runs the queued delivery inline in tests."""

    def run(case: Case, action: str, who: str | None, when: Any, **kw: Any) -> Case:
        with django_capture_on_commit_callbacks(execute=True):
            return world.act(case, action, who, when, **kw)

    return run


def test_dispatch_tells_the_lead_units_handlers_only(world, act) -> None:
    case = world.report(at(MON, "09:00"))
    case = act(case, "register", "shift_leader", at(MON, "09:30"))
    assert Notification.objects.count() == 0  # report and register tell nobody
    case = act(case, "dispatch", "dispatcher", at(MON, "09:40"))
    [message] = messages("handler")
    assert message.kind == "dispatched" and message.case == case
    assert message.subject == f"新派遣案件 {case.code}"
    assert "暴露垃圾" in message.text and "11月23日 15:40" in message.text
    assert messages("other_handler") == [] and messages("dispatcher") == []


def test_inspectors_are_sent_their_verification_and_check_tasks(world, act) -> None:
    public = world.report(at(MON, "08:30"), channel="web", reporter_staff=None, reporter_user=None)
    act(public, "send_verify", "operator", at(MON, "08:40"), inspector=world.staff["inspector2"])
    assert [m.kind for m in messages("inspector2")] == ["verify_task"]
    case = world.report(at(MON, "09:00"))
    for action, who in (("register", "shift_leader"), ("dispatch", "dispatcher"), ("accept", "handler")):
        case = act(case, action, who, at(MON, "09:40"))
    case = act(case, "report_back", "handler", at(MON, "11:00"))
    act(case, "send_check", "operator", at(MON, "11:05"), inspector=world.staff["inspector"])
    assert [m.kind for m in messages("inspector")] == ["check_task"]
    assert [m.kind for m in messages("inspector2")] == ["verify_task"]


def test_returns_and_extension_requests_go_to_the_dispatchers(world, act) -> None:
    case = world.report(at(MON, "09:00"))
    case = act(case, "register", "shift_leader", at(MON, "09:30"))
    case = act(case, "dispatch", "dispatcher", at(MON, "09:40"))
    case = act(case, "return", "handler", at(MON, "09:50"), note="属市政设施，不归环卫")
    case = act(case, "dispatch", "dispatcher", at(MON, "10:00"), lead_unit=world.municipal)
    case = act(case, "accept", "other_handler", at(MON, "10:05"))
    act(case, "request_extension", "other_handler", at(MON, "10:10"), note="需调运机械", extension_hours=8)
    kinds = [m.kind for m in messages("dispatcher")]
    assert kinds == ["returned", "extension"]
    returned, extension = messages("dispatcher")
    assert "属市政设施" in returned.text and "8 工作时" in extension.text
    assert [m.kind for m in messages("other_handler")] == ["dispatched"]


def test_a_refused_step_tells_nobody(world, act) -> None:
    case = world.report(at(MON, "09:00"))
    with pytest.raises(WorkflowError):
        act(case, "dispatch", "dispatcher", at(MON, "09:10"))  # not registered yet
    assert Notification.objects.count() == 0


def test_a_failing_notifier_neither_blocks_nor_rolls_back(world, act, settings, caplog) -> None:
    settings.CHENGGUAN_NOTIFIERS = [BROKEN, INBOX]
    case = world.report(at(MON, "09:00"))
    case = act(case, "register", "shift_leader", at(MON, "09:30"))
    with caplog.at_level(logging.WARNING, logger="chengguan.notify.services"):
        case = act(case, "dispatch", "dispatcher", at(MON, "09:40"))
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.events.filter(action="dispatch").count() == 1
    assert [m.kind for m in messages("handler")] == ["dispatched"]  # the inbox still got it
    assert "短信平台账号已欠费" in caplog.text


def test_a_queue_that_is_down_does_not_break_the_step(world, act, caplog) -> None:
    # A real Redis client aimed at a port where nothing listens: enqueueing fails for real.
    dead = RedisHuey("chengguan-test-dead", url="redis://127.0.0.1:1/0")
    # Leave immediate mode without the property setter, which would open the SQLite queue.
    saved = HUEY._immediate, HUEY.storage
    HUEY._immediate = False
    HUEY.storage = dead.storage
    try:
        case = world.report(at(MON, "09:00"))
        case = act(case, "register", "shift_leader", at(MON, "09:30"))
        with caplog.at_level(logging.ERROR, logger="chengguan.cases.notify"):
            case = act(case, "dispatch", "dispatcher", at(MON, "09:40"))
    finally:
        HUEY._immediate, HUEY.storage = saved
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED
    assert "未能放入队列" in caplog.text
    assert Notification.objects.count() == 0


class Gateway:
    """A local HTTP server standing in for an SMS platform (127.0.0.1, an ephemeral port)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[dict[str, str], dict[str, Any]]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = json.loads(self.rfile.read(length).decode())
                gateway.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(gateway.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Gateway:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    with Gateway() as server:
        yield server


def test_the_gateway_receives_one_post_per_recipient(world, act, settings, gateway) -> None:
    settings.CHENGGUAN_NOTIFIERS = [INBOX, GATEWAY]
    settings.CHENGGUAN_NOTIFY_GATEWAY_URL = gateway.url
    settings.CHENGGUAN_NOTIFY_GATEWAY_TOKEN = "t0ken"
    world.staff["handler"].phone = "13800000001"
    world.staff["handler"].save()
    case = world.report(at(MON, "09:00"))
    case = act(case, "register", "shift_leader", at(MON, "09:30"))
    case = act(case, "dispatch", "dispatcher", at(MON, "09:40"))
    [(headers, body)] = gateway.requests
    assert headers["authorization"] == "Bearer t0ken"
    assert headers["content-type"].startswith("application/json")
    assert body["to"] == "13800000001" and body["user"] == "handler"
    assert body["case"] == case.code and body["kind"] == "dispatched"
    assert body["subject"] == f"新派遣案件 {case.code}"
    assert len(messages("handler")) == 1


def test_a_gateway_error_is_logged_and_the_inbox_still_gets_the_message(world, act, settings, caplog) -> None:
    with Gateway(status=500) as failing:
        settings.CHENGGUAN_NOTIFIERS = [GATEWAY, INBOX]
        settings.CHENGGUAN_NOTIFY_GATEWAY_URL = failing.url
        case = world.report(at(MON, "09:00"))
        case = act(case, "register", "shift_leader", at(MON, "09:30"))
        with caplog.at_level(logging.WARNING, logger="chengguan.notify.services"):
            case = act(case, "dispatch", "dispatcher", at(MON, "09:40"))
        assert len(failing.requests) == 1
    assert Case.objects.get(pk=case.pk).status == Status.DISPATCHED
    assert "500" in caplog.text
    assert [m.kind for m in messages("handler")] == ["dispatched"]


def test_the_gateway_is_off_until_configured(settings) -> None:
    settings.CHENGGUAN_NOTIFY_GATEWAY_URL = ""
    assert not GatewayNotifier().enabled
    assert GatewayNotifier().send(None, "s", "b", None) is None  # nothing to contact, nothing sent
    settings.CHENGGUAN_NOTIFY_GATEWAY_URL = "file:///etc/passwd"
    with pytest.raises(NotifyError, match="http"):
        GatewayNotifier()


def test_inbox_reads_and_marks_read(world, act) -> None:
    case = world.report(at(MON, "09:00"))
    case = act(case, "register", "shift_leader", at(MON, "09:30"))
    act(case, "dispatch", "dispatcher", at(MON, "09:40"))
    handler = world.users["handler"]
    assert inbox.unread_count(handler) == 1 and inbox.unread_count(world.users["dispatcher"]) == 0
    assert notify_services.mark_read(handler) == 1
    assert inbox.unread_count(handler) == 0 and inbox.inbox(handler).count() == 1
    assert inbox.inbox(handler, unread_only=True).count() == 0


def test_a_notifier_path_that_does_not_import_is_reported_at_startup(settings) -> None:
    settings.CHENGGUAN_NOTIFIERS = [INBOX, "chengguan.notify.backends.NoSuchNotifier"]
    errors = [m for m in checks.run_checks() if m.id and m.id.startswith("chengguan.notify")]
    assert [e.id for e in errors] == ["chengguan.notify.E001"]
    assert "NoSuchNotifier" in errors[0].msg
