"""Notifiers: where a message to a person goes.

``CHENGGUAN_NOTIFIERS`` lists dotted paths of classes; each is built without arguments and
must offer ``send(recipient, subject, body, case, kind="")``. The in-app inbox is the default.
:class:`GatewayNotifier` is an example for an SMS or WeChat gateway reached over HTTP; a
bureau adds its own class the same way, without changing this code.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

if TYPE_CHECKING:
    from chengguan.cases.models import Case


class NotifyError(Exception):
    """A message could not be handed over; logged by the caller, never shown to the clerk."""


class Notifier(Protocol):
    def send(self, recipient: Any, subject: str, body: str, case: Case | None, kind: str = "") -> None: ...


class InboxNotifier:
    """Stores the message in the recipient's in-app inbox (站内消息)."""

    def send(self, recipient: Any, subject: str, body: str, case: Case | None, kind: str = "") -> None:
        from chengguan.notify.models import Kind, Notification

        Notification.objects.create(
            recipient=recipient,
            case=case,
            kind=kind if kind in Kind.values else Kind.OTHER,
            subject=subject[:120],
            text=body,
        )


class GatewayNotifier:
    """Posts each message as JSON to an SMS / WeChat gateway.

    Settings: ``CHENGGUAN_NOTIFY_GATEWAY_URL`` (empty: disabled, nothing is sent),
    ``CHENGGUAN_NOTIFY_GATEWAY_TOKEN`` (sent as ``Authorization: Bearer …``) and
    ``CHENGGUAN_NOTIFY_GATEWAY_TIMEOUT`` in seconds. The body is
    ``{"to": phone, "user": username, "subject", "body", "case": code, "kind"}``; any
    status other than 2xx is a failure. Most gateways want their own signature scheme: copy
    this class and change :meth:`payload` and :meth:`headers`.
    """

    def __init__(self) -> None:
        self.url: str = getattr(settings, "CHENGGUAN_NOTIFY_GATEWAY_URL", "")
        self.token: str = getattr(settings, "CHENGGUAN_NOTIFY_GATEWAY_TOKEN", "")
        self.timeout: float = float(getattr(settings, "CHENGGUAN_NOTIFY_GATEWAY_TIMEOUT", 5))
        if self.url and urllib.parse.urlsplit(self.url).scheme not in {"http", "https"}:
            raise NotifyError(f"短信/微信网关地址必须以 http:// 或 https:// 开头：{self.url}")

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def payload(
        self, recipient: Any, subject: str, body: str, case: Case | None, kind: str
    ) -> dict[str, Any]:
        from chengguan.org.models import Staff

        phone = Staff.objects.filter(user=recipient).values_list("phone", flat=True).first() or ""
        return {
            "to": phone,
            "user": recipient.get_username(),
            "subject": subject,
            "body": body,
            "case": case.code if case is not None else "",
            "kind": kind,
        }

    def headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def send(self, recipient: Any, subject: str, body: str, case: Case | None, kind: str = "") -> None:
        if not self.enabled:
            return
        data = json.dumps(self.payload(recipient, subject, body, case, kind), ensure_ascii=False).encode()
        request = urllib.request.Request(self.url, data=data, headers=self.headers(), method="POST")
        try:
            # The scheme was checked in __init__: only http(s), never file:// or ftp://.
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status = response.status
        except OSError as exc:  # URLError, HTTPError (non-2xx), timeouts
            raise NotifyError(f"网关 {self.url} 未接收消息：{exc}") from exc
        if not 200 <= status < 300:
            raise NotifyError(f"网关 {self.url} 返回状态 {status}")
