"""The one error format of the REST API: ``{"error": {"code", "message", "fields"}}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from chengguan.cases.services import CaseError, StaleCase
from chengguan.cases.workflow import WorkflowError

CODES: dict[int, str] = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, list | tuple):
        return [m for item in detail for m in _flatten(item)]
    if isinstance(detail, dict):
        return [m for value in detail.values() for m in _flatten(value)]
    return [str(detail)]


def _fields(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """Field errors, nested serializers joined with dots (``citizen.phone``)."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            key = f"{prefix}{name}"
            if isinstance(value, dict):
                out.update(_fields(value, f"{key}."))
            else:
                out[key] = _flatten(value)
    elif isinstance(detail, list) and prefix:
        out[prefix.rstrip(".")] = _flatten(detail)
    return out


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(status_code: int, message: str, fields: dict[str, list[str]] | None = None) -> Response:
    return Response(error_body(CODES.get(status_code, "error"), message, fields), status=status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, in our format; case-service refusals become 400/409."""
    if isinstance(exc, StaleCase):
        return error_response(status.HTTP_409_CONFLICT, str(exc))
    if isinstance(exc, CaseError):
        fields = {exc.field: [str(exc)]} if exc.field else {}
        return error_response(status.HTTP_400_BAD_REQUEST, str(exc), fields)
    if isinstance(exc, WorkflowError):
        return error_response(status.HTTP_409_CONFLICT, str(exc))
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("未找到。")
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = f"{int(exc.wait)}"  # type: ignore[attr-defined]
    set_rollback()
    code = CODES.get(exc.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        general = fields.pop("non_field_errors", [])
        if isinstance(exc.detail, list):
            general = _flatten(exc.detail)
        message = "；".join(general) or "请求参数有误，请检查各字段。"
        return Response(error_body(code, message, fields), status=exc.status_code, headers=headers)
    if isinstance(exc, exceptions.Throttled):
        message = "请求过于频繁，请稍后再试。"
    else:
        message = "；".join(_flatten(exc.detail))
    return Response(error_body(code, message), status=exc.status_code, headers=headers)
