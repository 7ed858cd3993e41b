"""Webhooks: every case event goes, after its transaction commits, to the integrators who
subscribed to its type — signed, logged and retried with exponential back-off.

Nothing here can hold up or roll back a workflow step: the hook only registers an
``on_commit`` callback (``robust``: an error there is logged, never raised), the callback
only writes Delivery rows and hands their ids to the queue, and the HTTP call happens in the
worker. A receiver that is down only makes its Delivery rows wait.

Each POST carries::

    X-Chengguan-Event: case.dispatch
    X-Chengguan-Delivery: 42
    X-Chengguan-Timestamp: 1767225600
    X-Chengguan-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body, keyed by the secret>

:func:`attempt` is callable directly (tests, the ``deliver-webhooks`` command); the huey
task in ``chengguan.api.tasks`` calls it and turns "try again in n seconds" into huey's
``RetryTask``, so the back-off is the queue's.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from chengguan.api.models import Delivery, DeliveryStatus, Subscription
from chengguan.cases.models import CaseEvent
from chengguan.cases.workflow import STATUS_LABELS, Status
from chengguan.security.privacy import mask_phones_in_text

logger = logging.getLogger(__name__)

USER_AGENT = "Chengguan-Webhooks/1"
SIGNATURE_HEADER = "X-Chengguan-Signature"
TIMESTAMP_HEADER = "X-Chengguan-Timestamp"
EVENT_HEADER = "X-Chengguan-Event"
DELIVERY_HEADER = "X-Chengguan-Delivery"


def retry_delay() -> float:
    return float(getattr(settings, "CHENGGUAN_WEBHOOK_RETRY_DELAY", 30))


def max_attempts() -> int:
    return int(getattr(settings, "CHENGGUAN_WEBHOOK_MAX_ATTEMPTS", 8))


def timeout() -> float:
    return float(getattr(settings, "CHENGGUAN_WEBHOOK_TIMEOUT", 10))


def backoff(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failure: delay, 2×delay, 4×delay …"""
    return retry_delay() * 2 ** max(0, attempts - 1)


def event_type(action: str) -> str:
    return f"case.{action}"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={digest.hexdigest()}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: float = 300) -> bool:
    """What a receiver does: same HMAC, constant-time compare, timestamp not too old."""
    if not timestamp.isascii():  # int() reads other scripts' digits; the signature never does
        return False
    try:
        fresh = abs(time.time() - int(timestamp)) <= tolerance
    except ValueError:
        return False
    # compare bytes: compare_digest refuses non-ASCII text, and a forged header may hold any
    return fresh and hmac.compare_digest(
        sign(secret, timestamp, body).encode(), signature.encode("utf-8", "surrogateescape")
    )


# -- which subscriptions exist (a few seconds' memory per process) --------------------------
_SUBS_TTL = 5.0
_subs_lock = threading.Lock()
_subs_cache: tuple[float, list[Subscription]] | None = None


def active_subscriptions() -> list[Subscription]:
    global _subs_cache
    cached = _subs_cache
    now = time.monotonic()
    if cached is not None and now - cached[0] < _SUBS_TTL:
        return cached[1]
    subs = list(Subscription.objects.filter(active=True))
    with _subs_lock:
        _subs_cache = (now, subs)
    return subs


def forget_subscriptions(**_: Any) -> None:
    global _subs_cache
    with _subs_lock:
        _subs_cache = None


# -- from a case event to deliveries ---------------------------------------------------------


def payload_of(event: CaseEvent) -> dict[str, Any]:
    case = event.case
    status = Status(event.to_status) if event.to_status in Status.__members__.values() else None
    return {
        "event": event_type(event.action),
        "event_id": event.pk,
        "occurred_at": event.at.isoformat(),
        "case": {
            "code": case.code,
            "status": case.status,
            "status_label": STATUS_LABELS[Status(case.status)],
            "channel": case.channel,
            "category": {"kind": case.category.kind, "code": case.category.code, "name": case.category.name},
            "address": case.address,
            "lat": case.lat,
            "lon": case.lon,
            "territory": case.territory.code if case.territory else None,
            "unit_grid": case.unit_grid,
            "lead_unit": case.lead_unit.code if case.lead_unit else None,
            "deadline": case.deadline.isoformat() if case.deadline else None,
            "reported_at": case.reported_at.isoformat(),
            "version": case.version,
        },
        "change": {
            "seq": event.seq,
            "action": event.action,
            "label": event.label,
            "from_status": event.from_status or None,
            "to_status": event.to_status,
            "to_status_label": STATUS_LABELS[status] if status else "",
            "actor_role": event.actor_role,
            "note": mask_phones_in_text(event.note),  # subscribers get no citizen's number
            "data": event.data,
        },
    }


def deliveries_for(event_id: int) -> list[int]:
    """Delivery rows for one committed event (once per subscription); returns their ids."""
    subs = active_subscriptions()
    if not subs:
        return []
    event = (
        CaseEvent.objects.select_related("case__category", "case__territory", "case__lead_unit")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return []
    kind = event_type(event.action)
    wanted = [s for s in subs if s.wants(kind)]
    if not wanted:
        return []
    payload = payload_of(event)
    now = timezone.now()
    ids = []
    for sub in wanted:
        delivery, created = Delivery.objects.get_or_create(
            subscription=sub,
            event_id=event.pk,
            defaults={"event_type": kind, "payload": payload, "next_attempt_at": now},
        )
        if created:
            ids.append(delivery.pk)
    return ids


def schedule(delivery_id: int) -> None:
    """Hand a delivery to the queue (runs at once in huey's immediate mode)."""
    from chengguan.api.tasks import deliver_webhook

    deliver_webhook(delivery_id)


def on_commit_of(event_id: int) -> None:
    for delivery_id in deliveries_for(event_id):
        try:
            schedule(delivery_id)
        except Exception:  # the queue being down must not lose the others; the sweep retries
            logger.exception("webhook delivery %s could not be queued", delivery_id)


def _on_event(sender: Any, instance: CaseEvent, created: bool, raw: bool = False, **_: Any) -> None:
    if not created or raw:
        return
    event_id = instance.pk
    transaction.on_commit(lambda: on_commit_of(event_id), robust=True)


def connect() -> None:
    post_save.connect(_on_event, sender=CaseEvent, dispatch_uid="chengguan.api.webhooks.case_event")
    post_save.connect(forget_subscriptions, sender=Subscription, dispatch_uid="chengguan.api.webhooks.subs")


# -- one attempt -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    status: str
    attempts: int
    status_code: int | None = None
    retry_in: float | None = None  # seconds until the next attempt, None when finished


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str]:
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout()) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        text = exc.read(500).decode("utf-8", "replace")
        return exc.code, f"HTTP {exc.code}: {text}".strip()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return None, f"{type(exc).__name__}: {reason}"[:500]


def attempt(delivery_id: int, *, now: dt.datetime | None = None) -> Outcome:
    """POST one pending delivery once and record the result."""
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update().select_related("subscription").filter(pk=delivery_id).first()
        )
        if delivery is None:
            return Outcome("missing", 0)
        if delivery.status != DeliveryStatus.PENDING:
            return Outcome(delivery.status, delivery.attempts, delivery.status_code)
        sub = delivery.subscription
        body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            EVENT_HEADER: delivery.event_type,
            DELIVERY_HEADER: str(delivery.pk),
            TIMESTAMP_HEADER: stamp,
            SIGNATURE_HEADER: sign(sub.secret, stamp, body),
        }
        if sub.active:
            code, error = _post(sub.url, body, headers)
        else:
            code, error = None, "订阅已停用"
        now = now or timezone.now()
        delivery.attempts += 1
        delivery.last_attempt_at = now
        delivery.status_code = code
        retry_in: float | None = None
        if code is not None and 200 <= code < 300:
            delivery.status, delivery.error = DeliveryStatus.SUCCEEDED, ""
            delivery.delivered_at, delivery.next_attempt_at = now, None
        elif not sub.active or delivery.attempts >= max_attempts():
            delivery.status, delivery.error, delivery.next_attempt_at = DeliveryStatus.FAILED, error, None
        else:
            retry_in = backoff(delivery.attempts)
            delivery.error = error
            delivery.next_attempt_at = now + dt.timedelta(seconds=retry_in)
        delivery.save(
            update_fields=[
                "attempts",
                "last_attempt_at",
                "status_code",
                "status",
                "error",
                "delivered_at",
                "next_attempt_at",
            ]
        )
    return Outcome(delivery.status, delivery.attempts, code, retry_in)


def due(now: dt.datetime | None = None, *, grace: dt.timedelta = dt.timedelta(0)) -> list[int]:
    """Pending deliveries whose next attempt is (more than ``grace``) overdue."""
    moment = (now or timezone.now()) - grace
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=moment)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:1000]
    )
