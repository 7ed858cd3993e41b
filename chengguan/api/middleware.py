"""A shorter middleware chain for key-authenticated API requests.

Every page needs the whole stack in ``settings.MIDDLEWARE``: sessions, CSRF, the signed-in
user, messages, the page policy, the lock-out page, the page CSP. An Open311 request or a
``/api/v1/`` request carrying an API key uses none of them: it has no session and no cookie
to protect, its views are CSRF-exempt, nobody signs in through it. Running them anyway cost
about a fifth of a cached read. So the first middleware sends those requests through a chain
built from the same list minus :data:`BROWSER_ONLY`, and sets the response headers that still
matter for them itself: a CSP that allows nothing (the body is data, never a document) and
``X-Frame-Options: DENY``. Security (HTTPS redirect, HSTS, nosniff), locale, common (append
slash, Content-Length) and any middleware added later stay on the short path too: only the
middleware named here is skipped, and only for requests that cannot carry a browser session.

A ``/api/v1/`` request without a key (a signed-in user trying the API from /api/docs/) takes
the full chain, so its session, CSRF check and policy work as on any page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponseBase
from django.utils.module_loading import import_string

from chengguan.api.auth import AUTH_SCHEME

# Middleware that only serves browser sessions and pages (each checked against what it does):
BROWSER_ONLY = frozenset(
    {
        "chengguan.api.middleware.ApiFastPathMiddleware",  # itself
        # Loads request.session lazily; API keys never use it. Saves nothing when unused.
        "django.contrib.sessions.middleware.SessionMiddleware",
        # Protects cookie-authenticated forms; API views are csrf_exempt (DRF checks CSRF
        # itself for session authentication, which the full chain still serves).
        "django.middleware.csrf.CsrfViewMiddleware",
        # request.user from the session; DRF sets the key's user on its own request.
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        # Flash messages stored in cookie/session, shown on pages.
        "django.contrib.messages.middleware.MessageMiddleware",
        # Which post may open which page; API calls are authorised by key scope inside DRF.
        "chengguan.security.policy.PolicyMiddleware",
        # Turns a refused sign-in (request.axes_locked_out) into the lock-out page; API keys do
        # not sign in.
        "axes.middleware.AxesMiddleware",
        # The page CSP (scripts, styles, map tiles, hashes): replaced by a fixed deny-all one.
        "csp.middleware.CSPMiddleware",
        # Replaced by the same header set below, without a per-request settings lookup.
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
    }
)

API_CSP = "default-src 'none'; frame-ancestors 'none'"
OPEN311_PREFIX = "/open311/"
REST_PREFIX = "/api/v1/"


def is_key_request(request: HttpRequest) -> bool:
    """Requests that cannot rely on a browser session: Open311 (keys in the form or none at
    all) and REST calls that name a key in a header."""
    path = request.path_info
    if path.startswith(OPEN311_PREFIX):
        return True
    if path.startswith(REST_PREFIX):
        meta = request.META
        if meta.get("HTTP_X_API_KEY"):
            return True
        scheme = str(meta.get("HTTP_AUTHORIZATION", "")).partition(" ")[0]
        return scheme.lower() == AUTH_SCHEME.lower()
    return False


class _ShortChain(BaseHandler):
    """Django's request handling (URL resolution, view middleware, exception middleware)
    behind the middleware of ``paths`` only."""

    def __init__(self, paths: list[str]) -> None:
        super().__init__()
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        handler: Any = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]
        for path in reversed(paths):
            instance = import_string(path)(handler)
            # Same order as Django: view hooks outermost first, the others innermost first.
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler


class ApiFastPathMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        self.short = _ShortChain([p for p in settings.MIDDLEWARE if p not in BROWSER_ONLY])

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not is_key_request(request):
            return self.get_response(request)
        response: HttpResponseBase = self.short._middleware_chain(request)
        response.headers.setdefault("Content-Security-Policy", API_CSP)
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response
