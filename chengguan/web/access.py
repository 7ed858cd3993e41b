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

from chengguan.cases import selectors
from chengguan.cases.selectors import ScopeKind, Viewer

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def viewer(request: HttpRequest) -> Viewer:
    """The request's viewer, computed once per request."""
    cached = getattr(request, "_chengguan_viewer", None)
    if cached is None:
        cached = selectors.viewer_of(request.user)
        request._chengguan_viewer = cached  # type: ignore[attr-defined]
    return cached


@dataclass(frozen=True)
class NavItem:
    url: str
    label: str
    key: str


def nav_for(current: Viewer) -> list[NavItem]:
    """Each post sees the pages of its post."""
    items: list[NavItem] = []
    if current.is_inspector:
        items.append(NavItem(reverse("web:inspector"), _("巡查上报"), "inspector"))
    if current.is_command or current.scope is ScopeKind.DISTRICT:
        items.append(NavItem(reverse("web:command"), _("指挥中心"), "command"))
    if current.is_handler:
        items.append(NavItem(reverse("web:unit"), _("单位待办"), "unit"))
    post = current.staff.role if current.staff else ""
    district = current.scope is ScopeKind.DISTRICT
    if district or current.is_inspector:
        items.append(NavItem(reverse("grid:map"), _("网格地图"), "grid"))
    if district or post == "leader":
        items.append(NavItem(reverse("dashboard:index"), _("数据看板"), "dashboard"))
    if district or post in {"assessor", "leader"}:
        items.append(NavItem(reverse("assessment:index"), _("考评"), "assessment"))
    return items


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
