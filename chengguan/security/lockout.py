"""The page shown when django-axes refuses a sign-in (Chinese, with the cool-off in minutes)."""

from __future__ import annotations

from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKED_STATUS = 429


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    cool_off = get_cool_off(request)
    minutes = max(1, round(cool_off.total_seconds() / 60)) if cool_off else None
    context = {"failure_limit": get_failure_limit(request, credentials), "cooloff_minutes": minutes}
    if request.path.startswith("/api/") or request.headers.get("x-requested-with") == "XMLHttpRequest":
        wait = f"，请 {minutes} 分钟后再试。" if minutes else "，请联系系统管理员解锁。"
        message = f"登录失败次数过多，账号已暂时锁定{wait}"
        return JsonResponse({"detail": message, **context}, status=LOCKED_STATUS)
    return render(request, "security/locked_out.html", context, status=LOCKED_STATUS)
