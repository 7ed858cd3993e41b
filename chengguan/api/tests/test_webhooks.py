"""Webhooks against a real HTTP receiver on 127.0.0.1 that fails twice, then succeeds."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client
from huey.contrib.djhuey import HUEY
from hypothesis import given
from hypothesis import strategies as st

from chengguan.api import webhooks
from chengguan.api.models import Delivery, DeliveryStatus, Scope, Subscription
from chengguan.api.tests.conftest import INSIDE, District, issue
from chengguan.cases import services
from chengguan.cases.models import Case

SECRET = "s3cret-for-signing-0123456789"


class Receiver:
    """Answers 500, 500, then 204; checks each signature as an integrator would."""

    def __init__(self, failures: int = 2) -> None:
        self.failures = failures
        self.received: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["X-Chengguan-Timestamp"]
                signature = self.headers["X-Chengguan-Signature"]
                receiver.received.append(
                    {
                        "body": json.loads(body),
                        "valid": webhooks.verify(SECRET, stamp, body, signature),
                        "tampered": webhooks.verify(SECRET, stamp, body + b" ", signature),
                        "event": self.headers["X-Chengguan-Event"],
                        "delivery": self.headers["X-Chengguan-Delivery"],
                    }
                )
                status = 500 if len(receiver.received) <= receiver.failures else 204
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def report(district: District) -> Case:
    return services.report(
        services.ReportInput(
            category=district.garbage, description="热线", channel="hotline", lat=INSIDE[0], lon=INSIDE[1]
        )
    )


def test_signed_delivery_retried_with_backoff_by_the_queue(
    district: District, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    Subscription.objects.create(name="大屏", url=receiver.url, secret=SECRET, event_types=["case.report"])
    HUEY.flush()
    with django_capture_on_commit_callbacks(execute=True):
        case = report(district)
    delivery = Delivery.objects.get()
    # huey runs in immediate mode under pytest: the first attempt ran at commit, failed, and the
    # queue holds the retry for later with the back-off delay.
    assert delivery.attempts == 1 and delivery.status == DeliveryStatus.PENDING
    assert delivery.status_code == 500 and "HTTP 500" in delivery.error
    delays = []
    for _ in range(2):
        scheduled = HUEY.scheduled()
        assert len(scheduled) == 1
        task = scheduled[0]
        previous = Delivery.objects.get().last_attempt_at
        delays.append(round((Delivery.objects.get().next_attempt_at - previous).total_seconds()))
        HUEY.storage.flush_schedule()
        HUEY.execute(task, timestamp=task.eta)  # the consumer picking it up when due
    assert delays == [30, 60]  # exponential back-off
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 3
    assert delivery.status_code == 204 and delivery.next_attempt_at is None and delivery.delivered_at
    assert HUEY.scheduled() == []
    assert [r["valid"] for r in receiver.received] == [True, True, True]
    assert not any(r["tampered"] for r in receiver.received)
    assert {r["delivery"] for r in receiver.received} == {str(delivery.pk)}
    body = receiver.received[-1]["body"]
    assert body["event"] == "case.report" and body["case"]["code"] == case.code
    assert body["change"]["to_status"] == "reported" and receiver.received[-1]["event"] == "case.report"


def test_only_subscribed_event_types_are_delivered(
    district: District, receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    receiver.failures = 0
    Subscription.objects.create(name="派遣", url=receiver.url, secret=SECRET, event_types=["case.dispatch"])
    with django_capture_on_commit_callbacks(execute=True):
        case = report(district)
    with django_capture_on_commit_callbacks(execute=True):
        services.transition(case.pk, services.TransitionInput("register"), district.users["shift_leader"])
        services.transition(case.pk, services.TransitionInput("dispatch"), district.users["dispatcher"])
    assert [r["event"] for r in receiver.received] == ["case.dispatch"]
    assert receiver.received[0]["body"]["case"]["lead_unit"] == "D01"


def test_failing_receiver_never_blocks_the_workflow(
    district: District, django_capture_on_commit_callbacks: Any
) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/"
    Subscription.objects.create(name="坏的", url=dead, secret=SECRET, event_types=["*"])
    with django_capture_on_commit_callbacks(execute=True):
        case = report(district)
    with django_capture_on_commit_callbacks(execute=True):
        done = services.transition(
            case.pk, services.TransitionInput("register"), district.users["shift_leader"]
        )
    assert done.status == "to_dispatch"
    deliveries = list(Delivery.objects.order_by("pk"))
    assert len(deliveries) == 2
    assert all(
        d.status == DeliveryStatus.PENDING and d.attempts == 1 and d.status_code is None for d in deliveries
    )
    assert all("Connection refused" in d.error or "Errno" in d.error for d in deliveries)
    HUEY.flush()


def test_events_are_enqueued_only_after_commit(district: District, receiver: Receiver) -> None:
    """Inside an uncommitted transaction nothing is written or sent; a rollback sends nothing."""
    Subscription.objects.create(name="全部", url=receiver.url, secret=SECRET, event_types=["*"])
    report(district)  # the test's transaction never commits
    assert Delivery.objects.count() == 0 and receiver.received == []


def test_gives_up_after_the_last_attempt(district: District, settings: Any) -> None:
    settings.CHENGGUAN_WEBHOOK_MAX_ATTEMPTS = 2
    sub = Subscription.objects.create(name="x", url="http://127.0.0.1:9/", secret=SECRET, event_types=["*"])
    case = report(district)
    event = case.events.get()
    delivery = Delivery.objects.create(
        subscription=sub, event_id=event.pk, event_type="case.report", payload=webhooks.payload_of(event)
    )
    first, second = webhooks.attempt(delivery.pk), webhooks.attempt(delivery.pk)
    assert first.retry_in == 30 and second.retry_in is None and second.status == DeliveryStatus.FAILED
    assert webhooks.attempt(delivery.pk).attempts == 2  # finished deliveries are left alone


def test_subscriptions_api(client: Client, district: District) -> None:
    key = issue([Scope.WEBHOOKS_MANAGE])
    other = issue([Scope.WEBHOOKS_MANAGE], name="别家")
    created = client.post(
        "/api/v1/subscriptions/",
        {
            "name": "大屏",
            "url": "https://dash.example.cn/hook",
            "event_types": ["case.dispatch", "case.close"],
        },
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )
    assert created.status_code == 201
    sub = created.json()
    assert len(sub["secret"]) >= 32 and sub["event_types"] == ["case.close", "case.dispatch"]
    listed = client.get("/api/v1/subscriptions/", HTTP_X_API_KEY=key).json()
    assert "secret" not in listed["results"][0]
    assert client.get(f"/api/v1/subscriptions/{sub['id']}/", HTTP_X_API_KEY=other).status_code == 404
    off = client.patch(
        f"/api/v1/subscriptions/{sub['id']}/",
        {"active": False},
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )
    assert off.json()["active"] is False
    bad = client.post(
        "/api/v1/subscriptions/",
        {"name": "x", "url": "ftp://x.cn/", "event_types": ["case.nothing"]},
        content_type="application/json",
        HTTP_X_API_KEY=key,
    )
    assert bad.status_code == 400 and set(bad.json()["error"]["fields"]) == {"url", "event_types.0"}
    deliveries = client.get(f"/api/v1/subscriptions/{sub['id']}/deliveries/", HTTP_X_API_KEY=key)
    assert deliveries.json()["count"] == 0


def test_command_sends_what_is_due(district: District, receiver: Receiver) -> None:
    from io import StringIO

    from django.core.management import call_command

    receiver.failures = 0
    sub = Subscription.objects.create(name="x", url=receiver.url, secret=SECRET, event_types=["*"])
    event = report(district).events.get()
    Delivery.objects.create(
        subscription=sub, event_id=event.pk, event_type="case.report", payload=webhooks.payload_of(event)
    )
    Delivery.objects.update(next_attempt_at=event.at)
    out = StringIO()
    call_command("deliver_webhooks", stdout=out)
    assert "送达 1" in out.getvalue() and receiver.received[0]["valid"]


@given(signature=st.text(max_size=80), stamp=st.text(max_size=12))
def test_verify_refuses_any_forged_header_without_raising(signature: str, stamp: str) -> None:
    """A receiver's check answers False for any header text (non-ASCII included), never raises."""
    body = b'{"event": "case.dispatched"}'
    now = str(int(time.time()))
    assert webhooks.verify(SECRET, stamp, body, signature) is False
    assert webhooks.verify(SECRET, now, body, signature) is False
    assert webhooks.verify(SECRET, now, body, webhooks.sign(SECRET, now, body)) is True
    assert webhooks.verify(SECRET, "\u0661\u0662", body, signature) is False  # Arabic-Indic digits
