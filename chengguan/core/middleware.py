"""A database that cannot be reached gets a clean 503, never a traceback.

While PostgreSQL restarts or refuses connections, every request that touches it fails with
:class:`django.db.OperationalError` (or ``InterfaceError`` on a connection that was cut).
That is not a bug of the request: the person gets a 503 in Chinese (a plain page that reads
no database, since the base template would ask for the user again), an integrator the API's
own error format, with ``Retry-After``. The transaction was rolled back by ``atomic`` on the
way out, so nothing half-written stays. Recovery needs no step: with ``CONN_HEALTH_CHECKS``
the next request finds the dead connection unusable and opens a fresh one.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

logger = logging.getLogger("chengguan.unavailable")

RETRY_AFTER_SECONDS = 30


def is_database_down(exc: BaseException | None) -> bool:
    return isinstance(exc, OperationalError | InterfaceError)


def _open311_format(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    given = str(match.kwargs.get("format", "")) if match is not None else ""
    if given in ("json", "xml"):
        return given
    return "json" if request.path.endswith(".json") else "xml"


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """The 503 for ``request``: API error JSON, an Open311 error document, or a page."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        from chengguan.api.errors import error_body

        body = error_body("unavailable", _("数据库暂时无法连接，请稍后重试。"))
        response = JsonResponse(body, status=503, json_dumps_params={"ensure_ascii": False})
    elif request.path.startswith("/open311/"):
        from chengguan.api import open311_format

        response = open311_format.error_response(
            _open311_format(request), 503, "service temporarily unavailable: the database cannot be reached"
        )
    else:
        response = HttpResponse(render_to_string("core/unavailable.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseUnavailableMiddleware:
    """Turns a lost database into a 503 for every view (DRF re-raises what it does not know)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_database_down(exception):
            return None
        logger.warning("database unreachable on %s %s: %s", request.method, request.path, exception)
        return unavailable_response(request)


def server_error(request: HttpRequest, template_name: str = defaults.ERROR_500_TEMPLATE_NAME) -> HttpResponse:
    """``handler500``: a lost database met outside any view (a middleware saving the session)
    is a 503 too; anything else is Django's own 500 page."""
    if is_database_down(sys.exc_info()[1]):
        return unavailable_response(request)
    return defaults.server_error(request, template_name)
