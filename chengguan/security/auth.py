"""Login lock-out (django-axes) for every sign-in that comes through a web request."""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LockoutBackend(AxesStandaloneBackend):
    """Refuses sign-ins of an account locked after repeated failures from one address.

    Our login page, the admin login and the API's password authentication all pass the
    request to ``authenticate()`` and are covered. Code that authenticates without a request
    (the test client's ``login()``, management commands) is not a web sign-in: it passes
    through to the next backend instead of failing.
    """

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
