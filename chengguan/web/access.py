"""Who is asking, and the pages of their post."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar, cast

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from chengguan.cases.selectors import ScopeKind, Viewer
from chengguan.security import policy

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def viewer(request: HttpRequest) -> Viewer:
    """The request's viewer, computed once per request (shared with the access policy)."""
    current: Viewer = policy.request_viewer(request)
    return current


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str
    key: str


def post_of_viewer(current: Viewer) -> policy.Post:
    return policy.post_of(current.who.user)


def nav_for(current: Viewer) -> list[NavItem]:
    """Each post sees the pages its post may open (the same table the middleware enforces)."""
    post = post_of_viewer(current)
    pages = [
        (policy.Area.INSPECTOR, "web:inspector", _("巡查上报"), "inspector"),
        (policy.Area.COMMAND, "web:command", _("指挥中心"), "command"),
        (policy.Area.UNIT, "web:unit", _("单位待办"), "unit"),
        (policy.Area.DASHBOARD, "dashboard:index", _("数据看板"), "dashboard"),
        (policy.Area.ASSESSMENT, "assessment:index", _("考评"), "assessment"),
        (policy.Area.INSPECTIONS, "assessment:inspections", _("检查记录"), "inspections"),
        # Last: every post may open the grid map, so it is nobody's first page but a pure viewer's.
        (policy.Area.GRID, "grid:map", _("网格地图"), "grid"),
    ]
    return [
        NavItem(reverse(name), label, key)
        for area, name, label, key in pages
        if policy.allows(post, area, "GET")
    ]


def start_url(current: Viewer) -> str:
    """Where a user lands after logging in: the first page of their post."""
    items = nav_for(current)
    return items[0].url if items else reverse("web:home")


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "web/forbidden.html", {"message": message}, status=403)


def page_for(check: Callable[[Viewer], bool], refusal: str) -> Callable[[View], View]:
    """Login required, then the viewer must pass ``check`` or gets a 403 page saying why."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(viewer(request)):
                return forbidden(request, refusal)
            return view(request, *args, **kwargs)

        return cast(View, wrapped)

    return decorate


def any_staff(current: Viewer) -> bool:
    return current.scope is not ScopeKind.NONE


def inspector_only(current: Viewer) -> bool:
    return current.is_inspector


def command_only(current: Viewer) -> bool:
    return current.scope is ScopeKind.DISTRICT


def handler_only(current: Viewer) -> bool:
    return current.is_handler and current.scope is ScopeKind.UNIT
