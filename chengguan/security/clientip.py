"""The client's address behind the bureau's own reverse proxies.

Each of the ``CHENGGUAN_PROXY_COUNT`` proxies in front of the app appends the address it saw to
``X-Forwarded-For`` (nginx: ``proxy_add_x_forwarded_for``), so the client is the N-th entry from
the right; whatever stands further left was written by the client and is not trusted. With no
proxy, or a header shorter than the proxies would have made (a request that bypassed them), the
socket's address is the answer. The login lock-out (axes), the API's rate limit and the public
forms' limit all read the address here, so they agree.

python-ipware's ``proxy_count`` counts the proxies listed *in* the header, which the nearest
proxy never is; with one nginx it answered nothing for every client that sent no header of its
own, and all of them shared one allowance. Hence this small function instead.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings


def _valid(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request: Any) -> str:
    meta = request.META
    socket_address = str(meta.get("REMOTE_ADDR") or "")
    proxies = int(getattr(settings, "CHENGGUAN_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return socket_address
    chain = [part for part in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",") if part.strip()]
    if len(chain) < proxies:
        return socket_address
    return _valid(chain[-proxies]) or socket_address
