"""Who may open which part of the product: one table for pages, API and admin.

Every URL of the project belongs to an :class:`Area`; every signed-in account has one
:class:`Post`. :data:`READ` and :data:`WRITE` say which posts may open an area with a safe
method (GET, HEAD, OPTIONS) and with a mutating one (POST, PUT, PATCH, DELETE).
:class:`PolicyMiddleware` applies the table before any page or admin view runs, the API's
permission class (``chengguan.api.auth.ScopePermission``) asks :func:`api_allows` — so a
page, its API twin and the admin (an area like any other) refuse the same people. Which
*objects* inside an area a post sees (the cases of a unit, the tasks of an inspector's grids)
stays with the scoped selectors (``cases.selectors.cases_for``).

The matrix test (``chengguan/security/tests/test_access_matrix.py``) walks every URL pattern,
fails on one that is not classified here and checks each post against this table over HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


class Post(StrEnum):
    """A person's post as the access rules see it (assistants count as inspectors)."""

    ANONYMOUS = "anonymous"  # not signed in: citizens, Open311 apps
    INSPECTOR = "inspector"  # 巡查员、协管员、自行车协管员
    OPERATOR = "operator"  # 受理员
    SHIFT_LEADER = "shift_leader"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    HANDLER = "handler"  # 处置单位人员
    ASSESSOR = "assessor"  # 考评员
    LEADER = "leader"  # 领导：reads everything, changes nothing
    ADMINISTRATOR = "administrator"  # 系统管理员：registries in the admin
    OFFICER = "officer"  # 执法队员：the grid, and inspections in their unit's name
    OTHER = "other"  # signed in without a post that opens anything (执法队员, stopped staff)


STAFF_ROLE_POSTS = {
    "inspector": Post.INSPECTOR,
    "assistant": Post.INSPECTOR,
    "bicycle_assistant": Post.INSPECTOR,
    "operator": Post.OPERATOR,
    "shift_leader": Post.SHIFT_LEADER,
    "dispatcher": Post.DISPATCHER,
    "handler": Post.HANDLER,
    "assessor": Post.ASSESSOR,
    "leader": Post.LEADER,
    "administrator": Post.ADMINISTRATOR,
    "officer": Post.OFFICER,
}


def post_for(user: Any, staff: Any) -> Post:
    """The post of ``user`` whose active staff record is ``staff`` (or None); no query.

    Superusers, and staff accounts (Django's ``is_staff``) without a staff record, are
    administrators."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Post.ANONYMOUS
    if user.is_superuser:
        return Post.ADMINISTRATOR
    if staff is None:
        return Post.ADMINISTRATOR if user.is_staff else Post.OTHER
    return STAFF_ROLE_POSTS.get(staff.role, Post.OTHER)


def post_of(user: Any, *, remember: bool = True) -> Post:
    """The post of ``user``, kept on the user object, which lives as long as its request: the
    middleware, the navigation and every action form of a page ask, and only the first one
    queries. ``remember=False`` for user objects that outlive a request (an API key's account
    in the key cache), so a changed post counts at the next call."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Post.ANONYMOUS
    cached = getattr(user, "_chengguan_post", None) if remember else None
    if cached is None:
        from chengguan.org.models import Staff

        staff = Staff.objects.filter(user=user, active=True).only("role").first()
        cached = post_for(user, staff)
        if remember:
            user._chengguan_post = cached
    return Post(cached)


def request_viewer(request: HttpRequest) -> Any:
    """The request's case viewer (``cases.selectors.viewer_of``), computed once per request;
    its staff record also gives the post, so pages pay one staff query for both."""
    cached = getattr(request, "_chengguan_viewer", None)
    if cached is None:
        from chengguan.cases.selectors import viewer_of

        user = getattr(request, "user", None)
        cached = viewer_of(user)
        request._chengguan_viewer = cached  # type: ignore[attr-defined]
        if user is not None and getattr(user, "is_authenticated", False):
            user._chengguan_post = post_for(user, cached.staff)
    return cached


def request_post(request: HttpRequest) -> Post:
    """The post of the request's user."""
    request_viewer(request)
    return post_of(getattr(request, "user", None))


class Area(StrEnum):
    PUBLIC = "public"  # home, citizens' pages, health check
    SESSION = "session"  # sign in/out, language: changes no data, open to all
    INSPECTOR = "inspector"  # /m/
    COMMAND = "command"  # /command/ (the queue)
    DISPATCH = "dispatch"  # bulk dispatch from the queue
    UNIT = "unit"  # /unit/
    CASE = "case"  # one case: page, action forms (POST: transitions), photos
    GRID = "grid"  # the grid map and its reports
    DASHBOARD = "dashboard"  # dashboard, big screen, statistics exports
    ASSESSMENT = "assessment"  # rankings, explain views, reports (POST: runs, publication, measures)
    INSPECTIONS = "inspections"  # inspection records (检查): every unit reads its own, inspectors record
    ADMIN = "admin"  # Django admin
    ADMIN_LOGIN = "admin_login"  # the admin's own sign-in pages
    API = "api"  # REST and Open311: decided by the API permission class (keys and scopes)
    MEDIA = "media"  # uploaded files served by Django in DEBUG only (random names)


P = Post
ALL = frozenset(Post)
SIGNED_IN = ALL - {P.ANONYMOUS}
STAFF = SIGNED_IN - {P.OTHER}
COMMAND_CENTRE = frozenset({P.OPERATOR, P.SHIFT_LEADER, P.DISPATCHER})
DISTRICT = COMMAND_CENTRE | {P.LEADER, P.ADMINISTRATOR}
# Posts that act in the case workflow; the workflow then decides which action on which case.
CASE_ACTORS = COMMAND_CENTRE | {P.INSPECTOR, P.HANDLER}

READ: dict[Area, frozenset[Post]] = {
    Area.PUBLIC: ALL,
    Area.SESSION: ALL,
    Area.INSPECTOR: frozenset({P.INSPECTOR}),
    Area.COMMAND: DISTRICT,
    Area.DISPATCH: DISTRICT,
    Area.UNIT: frozenset({P.HANDLER}),
    Area.CASE: CASE_ACTORS | {P.LEADER, P.ADMINISTRATOR},
    Area.GRID: STAFF,
    Area.DASHBOARD: DISTRICT,
    # Published rankings are announced to every unit (通报); drafts stay with the assessors
    # (the views' own check).
    Area.ASSESSMENT: STAFF,
    Area.INSPECTIONS: STAFF,
    Area.ADMIN: frozenset({P.ADMINISTRATOR}),
    Area.ADMIN_LOGIN: ALL,
    Area.API: ALL,
    Area.MEDIA: ALL,
}
WRITE: dict[Area, frozenset[Post]] = {
    # A leader "changes nothing": not even a complaint on the citizens' page while signed in.
    Area.PUBLIC: ALL - {P.LEADER},
    Area.SESSION: ALL,
    Area.INSPECTOR: frozenset({P.INSPECTOR}),
    Area.COMMAND: frozenset(),
    Area.DISPATCH: frozenset({P.SHIFT_LEADER, P.DISPATCHER}),
    Area.UNIT: frozenset(),
    Area.CASE: CASE_ACTORS,
    Area.GRID: frozenset(),
    Area.DASHBOARD: frozenset(),
    Area.ASSESSMENT: frozenset({P.ASSESSOR, P.ADMINISTRATOR}),
    Area.INSPECTIONS: frozenset({P.ASSESSOR, P.ADMINISTRATOR, P.INSPECTOR, P.OFFICER}),
    Area.ADMIN: frozenset({P.ADMINISTRATOR}),
    Area.ADMIN_LOGIN: ALL,
    Area.API: ALL,
    Area.MEDIA: frozenset(),
}

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFUSED_HEADER = "X-Chengguan-Refused"

# Every URL name of the project and its area. Only the admin (generated per model) and the
# APIs (each view declares its scopes) have a namespace default: a new page anywhere else fails
# the matrix test until it is listed here, with a decision about who may open it.
NAMESPACE_AREAS: dict[str, Area] = {
    "admin": Area.ADMIN,
    "api": Area.API,
    "open311": Area.API,
}
URL_AREAS: dict[str, Area] = {
    "grid:map": Area.GRID,
    "grid:cells": Area.GRID,
    "grid:cell": Area.GRID,
    "grid:components": Area.GRID,
    "grid:layers": Area.GRID,
    "grid:layer": Area.GRID,
    "grid:coverage": Area.GRID,
    "dashboard:index": Area.DASHBOARD,
    "dashboard:hotspots": Area.DASHBOARD,
    "dashboard:export": Area.DASHBOARD,
    "dashboard:bigscreen": Area.DASHBOARD,
    "dashboard:bigscreen-data": Area.DASHBOARD,
    "assessment:index": Area.ASSESSMENT,
    "assessment:run_create": Area.ASSESSMENT,
    "assessment:run": Area.ASSESSMENT,
    "assessment:publish": Area.ASSESSMENT,
    "assessment:xlsx": Area.ASSESSMENT,
    "assessment:pdf": Area.ASSESSMENT,
    "assessment:result": Area.ASSESSMENT,
    "assessment:indicator": Area.ASSESSMENT,
    "assessment:line": Area.ASSESSMENT,
    "assessment:measures": Area.ASSESSMENT,
    "assessment:follow_up": Area.ASSESSMENT,
    "set_language": Area.SESSION,
    "schema": Area.API,
    "api-docs": Area.API,
    "admin:login": Area.ADMIN_LOGIN,
    "admin:logout": Area.ADMIN_LOGIN,
    "assessment:inspections": Area.INSPECTIONS,
    "assessment:inspection_create": Area.INSPECTIONS,
    "assessment:inspection": Area.INSPECTIONS,
    "assessment:finding_create": Area.INSPECTIONS,
    "assessment:finding": Area.INSPECTIONS,
    "assessment:finding_follow_up": Area.INSPECTIONS,
    "assessment:photo": Area.INSPECTIONS,
    "web:home": Area.PUBLIC,
    "web:healthz": Area.PUBLIC,
    "web:login": Area.SESSION,
    "web:logout": Area.SESSION,
    "web:start": Area.SESSION,
    "web:inspector": Area.INSPECTOR,
    "web:inspector-report": Area.INSPECTOR,
    "web:category-options": Area.PUBLIC,
    "web:command": Area.COMMAND,
    "web:bulk-dispatch": Area.DISPATCH,
    "web:unit": Area.UNIT,
    "web:case": Area.CASE,
    "web:case-actions": Area.CASE,
    "web:case-act": Area.CASE,
    "web:photo": Area.CASE,
    "web:public": Area.PUBLIC,
    "web:public-complain": Area.PUBLIC,
    "web:public-done": Area.PUBLIC,
    "web:public-follow": Area.PUBLIC,
    "web:public-rate": Area.PUBLIC,
    "web:public-photo": Area.PUBLIC,  # the EXIF-free copy of a citizen's own photo, by token
}
# Views without a name, by their function (Django's static file view in DEBUG).
VIEW_AREAS: dict[str, Area] = {"django.views.static.serve": Area.MEDIA}


def area_of(url_name: str | None, namespace: str = "", view_path: str = "") -> Area | None:
    """The area of a resolved URL (``None``: not classified — the matrix test fails on it)."""
    full = f"{namespace}:{url_name}" if namespace and url_name else (url_name or "")
    if full in URL_AREAS:
        return URL_AREAS[full]
    if view_path in VIEW_AREAS:
        return VIEW_AREAS[view_path]
    if namespace:
        return NAMESPACE_AREAS.get(namespace.split(":")[0])
    return None


def allows(post: Post, area: Area, method: str) -> bool:
    table = READ if method.upper() in SAFE_METHODS else WRITE
    return post in table[area]


def read_only(post: Post) -> bool:
    """Posts that may read but never change anything anywhere (the leader)."""
    return post is P.LEADER


# -- citizens' personal data -----------------------------------------------------------------

# The command centre calls citizens back; nobody else needs their real name and number.
CONTACT_REVEALERS = COMMAND_CENTRE


def may_reveal_contact(post: Post) -> bool:
    return post in CONTACT_REVEALERS


def may_reveal_contact_api(post: Post, key_scopes: list[str] | None) -> bool:
    """A key needs the ``personal:read`` scope; a session the post of the page's reveal."""
    if key_scopes is not None:
        return "personal:read" in key_scopes and not read_only(post)
    return may_reveal_contact(post)


# -- API ---------------------------------------------------------------------------------------

# Session callers who may file a case through the REST API (hotline, patrol apps on staff
# accounts); leaders, assessors and administrators do not report cases.
API_REPORTERS = CASE_ACTORS


def api_allows(
    post: Post,
    method: str,
    needed: str | None,
    key_scopes: list[str] | None,
) -> tuple[bool, str]:
    """Whether an API call may go ahead, and the refusal message if not.

    ``key_scopes`` is ``None`` for a session (or anonymous) caller, else the key's scopes;
    ``post`` is the post of the key's account or of the session user.
    """
    mutating = method.upper() not in SAFE_METHODS
    if mutating and read_only(post):
        return False, "领导岗位只读，不能通过接口修改数据。"
    if key_scopes is not None:
        if needed and needed not in key_scopes:
            return False, f"该接口密钥缺少权限范围“{needed}”。"
        return True, ""
    if post is P.ANONYMOUS:
        return False, "请提供接口密钥（X-Api-Key）或先登录。"
    if post is P.OTHER:
        return False, "该账号没有可用的岗位，不能使用接口。"
    if needed == "webhooks:manage" and post is not P.ADMINISTRATOR:
        return False, "只有系统管理员可以管理事件订阅。"
    if needed == "cases:write" and post not in API_REPORTERS:
        return False, "该岗位不能上报或流转案件。"
    if needed == "cases:read" and post not in READ[Area.CASE]:
        return False, "该岗位不查看案件（考评员通过考评页面查看案件记录）。"
    return True, ""


# -- the middleware ------------------------------------------------------------------------------


def _refusal(request: HttpRequest, area: Area, post: Post, method: str) -> HttpResponseBase:
    if post is P.ANONYMOUS:
        if area is Area.ADMIN:
            from django.urls import reverse

            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        return redirect_to_login(request.get_full_path())
    if read_only(post) and method not in SAFE_METHODS:
        message = _("领导岗位只能查看，不能修改数据。")
    else:
        message = _("您的岗位无权访问此页面。")
    wants_json = request.path.endswith(".json") or "application/json" in request.headers.get("Accept", "")
    response: HttpResponse
    if wants_json:
        response = JsonResponse({"error": {"code": "forbidden", "message": message}}, status=403)
    else:
        response = render(request, "web/forbidden.html", {"message": message}, status=403)
    # Says which layer refused (the access table, not a view's own finer rule): for logs and tests.
    response[REFUSED_HEADER] = "policy"
    return response


class PolicyMiddleware:
    """Refuses a page or admin request whose area the user's post may not open."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponseBase | None:
        match = request.resolver_match
        if match is None:
            return None
        view_path = f"{getattr(view, '__module__', '')}.{getattr(view, '__name__', '')}"
        area = area_of(match.url_name, match.namespace, view_path)
        # API calls authenticate with keys inside DRF; unclassified URLs are the test's job.
        if area is None or area is Area.API:
            return None
        method = (request.method or "GET").upper()
        post = request_post(request)
        if allows(post, area, method):
            return None
        return _refusal(request, area, post, method)
