"""The role × endpoint matrix (issue 8): every URL pattern of the project, every post, API keys
of every scope, safe and mutating methods — over HTTP, against ``chengguan.security.policy``.

The patterns are walked from the URL resolver, so a page added tomorrow fails
``test_every_url_pattern_is_classified`` until it has an area in the policy (and a sample URL
here). What is allowed is read from the policy's tables (``READ``/``WRITE``, ``api_allows``);
what is *observed* comes from the real views, selectors and workflow, so a view that leaks
(answers a post the table refuses) or over-refuses fails the matrix. Object scope (a handler of
another unit, an inspector of other grids) is checked on real cases, and a few rules are also
written out by hand below, so the table itself is pinned.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from chengguan.api.models import ApiKey, Scope
from chengguan.api.tests.conftest import District, build_district
from chengguan.cases import services
from chengguan.cases.models import Case
from chengguan.grid.models import DutyRole, GridCell, GridDuty
from chengguan.grid.selectors import active_layer
from chengguan.org.models import OrgUnit, Staff
from chengguan.security import policy
from chengguan.security.policy import Area, Post

MUTATING = ("POST", "PUT", "PATCH", "DELETE")
PAGE_METHODS = ("GET", "POST")
API_METHODS = ("GET", "POST", "PATCH", "DELETE")
COUNTS: dict[str, int] = {"pairs": 0, "requests": 0}


# -- the URL patterns -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    pattern: str  # the full pattern text, for messages
    name: str | None  # "namespace:name" or None for unnamed patterns
    namespace: str
    url_name: str | None
    callback: Any

    @property
    def view_path(self) -> str:
        return f"{getattr(self.callback, '__module__', '')}.{getattr(self.callback, '__name__', '')}"

    @property
    def area(self) -> Area | None:
        return policy.area_of(self.url_name, self.namespace, self.view_path)


def routes() -> list[Route]:
    found: list[Route] = []

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> Iterator[Route]:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = entry.namespace or ""
                full_ns = f"{namespace}:{inner}" if namespace and inner else (inner or namespace)
                yield from walk(entry, prefix + str(entry.pattern), full_ns)
            elif isinstance(entry, URLPattern):
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
                yield Route(prefix + str(entry.pattern), name, namespace, entry.name, entry.callback)

    found.extend(walk(get_resolver(), "", ""))
    return found


# -- the world: one district, one login per post, cases in two units and two grids ---------------


@dataclass
class World:
    district: District
    unit_x: OrgUnit
    unit_y: OrgUnit
    case_x: Case  # a citizen's complaint, dispatched to unit X, in inspector A's grid
    case_y: Case  # dispatched to unit Y, in inspector B's grid
    users: dict[str, User]
    keys: dict[str, str] = field(default_factory=dict)
    key_objects: dict[str, ApiKey] = field(default_factory=dict)


PHONE = "13912345678"
CITIZEN = "欧阳娜娜"

# Who is asking: a login per post, a visitor, and API keys of every scope.
SESSION_ROLES = {
    "anonymous": Post.ANONYMOUS,
    "citizen": Post.ANONYMOUS,  # a citizen with a follow code: public pages only, no account
    "inspector": Post.INSPECTOR,  # grid of case X
    "inspector_b": Post.INSPECTOR,  # grid of case Y
    "operator": Post.OPERATOR,
    "shift_leader": Post.SHIFT_LEADER,
    "dispatcher": Post.DISPATCHER,
    "handler": Post.HANDLER,  # unit X
    "handler_y": Post.HANDLER,  # unit Y
    "assessor": Post.ASSESSOR,
    "leader": Post.LEADER,
    "officer": Post.OFFICER,
    "administrator": Post.ADMINISTRATOR,
}
KEY_ROLES = {f"key:{scope.value}": [scope.value] for scope in Scope} | {
    "key:none": [],
    "key:leader-all": [scope.value for scope in Scope],  # every scope, but acting as the leader
}
# Object scope: these see neither case X nor anything of it.
BLIND_TO_CASE_X = {"inspector_b", "handler_y"}


def unit_cells() -> list[GridCell]:
    layer = active_layer()
    assert layer is not None
    return list(GridCell.objects.filter(layer=layer, level=4).order_by("code"))


def centre(cell: GridCell) -> tuple[float, float]:
    return ((cell.min_lat + cell.max_lat) / 2, (cell.min_lon + cell.max_lon) / 2)


def build_world() -> World:
    district = build_district()
    unit_x = district.sanitation
    unit_y = OrgUnit.objects.create(code="D02", name="区市政设施管理中心", kind="department")
    users = {key: district.users[key] for key in ("operator", "shift_leader", "dispatcher", "handler")}
    extra = {
        "inspector": ("inspector", district.town),
        "inspector_b": ("assistant", district.town),
        "handler_y": ("handler", unit_y),
        "assessor": ("assessor", unit_x),
        "leader": ("leader", unit_x),
        "officer": ("officer", district.town),
    }
    for n, (key, (role, unit)) in enumerate(extra.items(), start=50):
        users[key] = User.objects.create_user(f"m-{key}")
        Staff.objects.create(code=f"M{n:03d}", name=f"人员{key}", role=role, unit=unit, user=users[key])
    users["administrator"] = User.objects.create_superuser("m-admin", "", None)
    cells = unit_cells()
    cell_x, cell_y = cells[0], cells[-1]
    for who, cell in (("inspector", cell_x), ("inspector_b", cell_y)):
        GridDuty.objects.create(cell=cell, staff=Staff.objects.get(user=users[who]), role=DutyRole.INSPECTOR)

    def complaint(cell: GridCell, unit: OrgUnit) -> Case:
        lat, lon = centre(cell)
        case = services.report(
            services.ReportInput(
                category=district.garbage,
                description=f"小区门口垃圾成堆，请回电 {PHONE}",
                channel="hotline",
                lat=lat,
                lon=lon,
                address="东岭街道光明路 12 号",
                reporter_user=users["operator"],
                citizen=services.CitizenInfo(CITIZEN, PHONE),
            )
        )
        case = services.transition(case.pk, services.TransitionInput("register"), users["shift_leader"])
        return services.transition(
            case.pk, services.TransitionInput("dispatch", lead_unit=unit), users["dispatcher"]
        )

    world = World(district, unit_x, unit_y, complaint(cell_x, unit_x), complaint(cell_y, unit_y), users)
    assert world.case_x.unit_grid == cell_x.code and world.case_y.unit_grid == cell_y.code
    for role, scopes in KEY_ROLES.items():
        bound = users["leader"] if role == "key:leader-all" else None
        key, raw = ApiKey.issue(role, scopes, user=bound)
        world.keys[role], world.key_objects[role] = raw, key
    return world


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


# -- sample URLs -------------------------------------------------------------------------------------

# Patterns whose sample object does not exist in the small world: an allowed post may get the
# view's 404 (the denial of everyone else is still checked).
MISSING_OK_PREFIXES = ("assessment:", "admin:", "api:subscription", "api:deliveries")
FINER_RULES = {Area.ADMIN, Area.ASSESSMENT, Area.INSPECTIONS}
MISSING_OK = {
    "web:photo",
    "web:public-rate",
    "web:public-photo",
    "open311:service",
    "open311:request",
    "open311:token",
    None,  # catch-alls: "no such endpoint"
}


def sample_url(route: Route, world: World) -> str:
    """A concrete URL for a pattern: real objects where the world has them."""
    layer = active_layer()
    special: dict[str, dict[str, Any]] = {
        "web:case": {"code": world.case_x.code},
        "web:case-actions": {"code": world.case_x.code},
        "web:case-act": {"code": world.case_x.code},
        "api:case": {"code": world.case_x.code},
        "api:case-events": {"code": world.case_x.code},
        "api:case-transitions": {"code": world.case_x.code},
        "grid:cell": {"pk": unit_cells()[0].pk},
        "grid:layer": {"pk": layer.pk if layer else 0},
        "dashboard:export": {"table": "units"},
    }
    pattern = route.pattern
    if route.name in special:
        return reverse(route.name, kwargs=special[route.name])
    if route.name is None or route.url_name is None:
        # Catch-alls and unnamed patterns: fill the regex by hand.
        text = re.sub(r"\(\?P<[^>]+>[^)]*\)", "nothing-here", pattern)
        text = re.sub(r"<[^>]+>", "0", text)
        return "/" + text.replace("^", "").replace("$", "").replace("\\", "")
    kwargs: dict[str, Any] = {}
    for converter, name in re.findall(r"<(?:(\w+):)?(\w+)>", pattern):
        kwargs[name] = 0 if converter == "int" else "0"
    for name, body in re.findall(r"\(\?P<(\w+)>([^)]*)\)", pattern):
        if name == "format":
            kwargs[name] = "json"
        elif "|" in body:
            kwargs[name] = body.split("|")[0].lstrip("(?:")
        else:
            kwargs[name] = "x"
    if "app_label" in kwargs:
        kwargs["app_label"] = re.search(r"\(\?P<app_label>([\w|]+)\)", pattern).group(1).split("|")[0]  # type: ignore[union-attr]
    return reverse(route.name, kwargs=kwargs)


# -- asking -------------------------------------------------------------------------------------------


class Asker:
    """One client per role, signed in again after a request that signs out."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.clients: dict[str, Client] = {}

    def client(self, role: str) -> Client:
        if role not in self.clients:
            client = Client()
            if role in self.world.users:
                client.force_login(self.world.users[role])
            self.clients[role] = client
        return self.clients[role]

    def ask(self, role: str, method: str, url: str) -> Any:
        COUNTS["requests"] += 1
        headers: dict[str, str] = {}
        if role.startswith("key:"):
            headers["X-Api-Key"] = self.world.keys[role]
        client = self.client(role)
        if method == "GET":
            response = client.get(url, headers=headers)
        else:
            body = "{}" if url.startswith("/api/") else ""
            kind = "application/json" if url.startswith("/api/") else "application/x-www-form-urlencoded"
            response = client.generic(method, url, body, content_type=kind, headers=headers)
        if role in self.world.users and "_auth_user_id" not in client.session:
            self.clients.pop(role)  # signed out (logout): sign in again for the next request
        return response


def outcome(response: Any) -> str:
    """'login' (sent to a sign-in page), 'refused' (401/403), 'absent' (404), 'method' (405),
    or 'answered' (anything else: the view ran for this caller)."""
    status = response.status_code
    if status in (301, 302) and re.search(r"/login/", response.get("Location", "")):
        return "login"
    if status in (401, 403):
        return "refused"
    if status == 404:
        return "absent"
    if status == 405:
        return "method"
    return "answered"


def session_expectation(route: Route, role: str, method: str) -> bool:
    """Whether this session role may use this page/admin pattern with this method."""
    area = route.area
    assert area is not None
    if not policy.allows(SESSION_ROLES[role], area, method):
        return False
    if area is Area.CASE and role in BLIND_TO_CASE_X:
        return False
    return True


def check_page(route: Route, role: str, method: str, response: Any) -> str | None:
    seen = outcome(response)
    allowed = session_expectation(route, role, method)
    missing_ok = route.name in MISSING_OK or (route.name or "").startswith(MISSING_OK_PREFIXES)
    if allowed:
        by_policy = response.get(policy.REFUSED_HEADER) == "policy"
        if route.area in (Area.SESSION, Area.ADMIN_LOGIN):
            wrong = seen == "refused"  # signing out lands on the sign-in page
        elif route.area in FINER_RULES:
            # The admin's model permissions (history is read-only even for superusers) and the
            # assessment's own rules (drafts, who records inspections) may refuse further.
            wrong = seen == "login" or by_policy or (seen == "absent" and not missing_ok)
        else:
            wrong = seen in ("login", "refused") or (seen == "absent" and not missing_ok)
        if wrong:
            return f"{role} {method} {route.name}: expected allowed, got {response.status_code}"
        return None
    object_scope = route.area is Area.CASE and role in BLIND_TO_CASE_X
    denials = {"login", "refused", "method"} | ({"absent"} if object_scope else set())
    if seen not in denials:
        return f"{role} {method} {route.name}: expected denied, got {response.status_code}"
    return None


def api_view_class(route: Route) -> Any:
    return getattr(route.callback, "cls", None) or getattr(route.callback, "view_class", None)


def api_expectation(route: Route, role: str, method: str) -> str:
    """'allow', 'deny' or 'any-denial' (a method the view does not offer: 401/403/405 all fine)."""
    cls = api_view_class(route)
    name = route.name or ""
    if name.startswith("open311:") or name in ("schema", "api-docs"):
        # Public documents and Open311: reads for everyone; a new request needs an
        # open311:write key (the spec answers 400 without a key, 403 with a wrong one).
        if method == "GET":
            return "allow"
        if name == "open311:requests" and method == "POST":
            scopes = KEY_ROLES.get(role, [])
            return "allow" if Scope.OPEN311_WRITE.value in scopes else "deny"
        return "any-denial"
    if cls is None or not hasattr(cls, method.lower()):
        return "any-denial"
    scopes: dict[str, str] = getattr(cls, "scopes", {})
    needed = scopes.get(method) or scopes.get("*")
    if role.startswith("key:"):
        key_post = Post.LEADER if role == "key:leader-all" else Post.ANONYMOUS
        allowed, _ = policy.api_allows(key_post, method, needed, KEY_ROLES[role])
    else:
        post = SESSION_ROLES[role]
        if post is Post.ANONYMOUS:
            return "deny"
        allowed, _ = policy.api_allows(post, method, needed, None)
    if allowed and name.startswith("api:case") and name != "api:cases" and role in BLIND_TO_CASE_X:
        return "deny"  # object scope: the case is not theirs (404)
    if allowed and name == "api:case-transitions" and role.startswith("key:") and role != "key:leader-all":
        return "deny"  # a transition is someone's act: keys without an account may not
    return "allow" if allowed else "deny"


def check_api(route: Route, role: str, method: str, response: Any) -> str | None:
    expected = api_expectation(route, role, method)
    status = response.status_code
    missing_ok = route.name in MISSING_OK or (route.name or "").startswith(MISSING_OK_PREFIXES)
    if expected == "allow":
        if status in (401, 403) or (status == 404 and not missing_ok):
            return f"{role} {method} {route.name}: expected allowed, got {status}"
    elif expected == "deny":
        denial = {401, 403, 404} | ({400} if (route.name or "").startswith("open311:") else set())
        if status not in denial:
            return f"{role} {method} {route.name}: expected denied, got {status}"
    elif 200 <= status < 300:
        return f"{role} {method} {route.name}: no such operation, yet got {status}"
    return None


# -- the tests ----------------------------------------------------------------------------------------


def test_every_url_pattern_is_classified() -> None:
    unclassified = [f"{r.pattern} ({r.name or r.view_path})" for r in routes() if r.area is None]
    assert not unclassified, (
        "URL patterns without an area in chengguan.security.policy (add them to URL_AREAS or "
        "NAMESPACE_AREAS and decide who may open them):\n" + "\n".join(unclassified)
    )


def test_matrix_pages_and_admin(world: World) -> None:
    asker = Asker(world)
    problems: list[str] = []
    pairs = 0
    for route in routes():
        if route.area in (None, Area.API):
            continue
        url = sample_url(route, world)
        for role in list(SESSION_ROLES) + list(KEY_ROLES):
            session_role = role if role in SESSION_ROLES else "anonymous"  # pages ignore keys
            pairs += 1
            for method in PAGE_METHODS:
                response = asker.ask(role, method, url)
                problem = check_page(route, session_role, method, response)
                if problem:
                    problems.append(f"{problem} ({url})")
    COUNTS["pairs"] += pairs
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:60])


def test_matrix_api(world: World) -> None:
    asker = Asker(world)
    problems: list[str] = []
    pairs = 0
    for route in routes():
        if route.area is not Area.API:
            continue
        url = sample_url(route, world)
        for role in list(SESSION_ROLES) + list(KEY_ROLES):
            pairs += 1
            for method in API_METHODS:
                response = asker.ask(role, method, url)
                problem = check_api(route, role, method, response)
                if problem:
                    problems.append(f"{problem} ({url})")
    COUNTS["pairs"] += pairs
    assert not problems, f"{len(problems)} mismatches:\n" + "\n".join(problems[:60])
    # Nothing a refused caller sent changed the case: only the setup's three events.
    assert world.case_x.events.count() == 3


# -- rules written out by hand (so the table itself is pinned) -------------------------------------


def test_leader_is_refused_every_mutating_request(world: World) -> None:
    asker = Asker(world)
    session_areas = {Area.SESSION, Area.ADMIN_LOGIN}
    problems = []
    for route in routes():
        if route.area in session_areas or route.area is None:
            continue
        if route.name and route.name.startswith("open311:"):
            continue  # Open311 takes no sessions: a leader there is an anonymous app
        if route.url_name is None and route.area is Area.API:
            continue  # the API's catch-all: "no such endpoint" (404) for every method
        url = sample_url(route, world)
        for method in MUTATING:
            roles = ("leader", "key:leader-all") if route.area is Area.API else ("leader",)
            for role in roles:
                status = asker.ask(role, method, url).status_code
                if status not in (403, 405):
                    problems.append(f"{role} {method} {url}: {status}")
    assert not problems, "\n".join(problems)
    assert world.case_x.events.count() == 3


def test_the_handler_of_another_unit_sees_nothing_of_the_case(world: World) -> None:
    code = world.case_x.code
    other = Client()
    other.force_login(world.users["handler_y"])
    own = Client()
    own.force_login(world.users["handler"])
    for url in (f"/cases/{code}/", f"/cases/{code}/actions/", f"/api/v1/cases/{code}/"):
        assert other.get(url).status_code == 404
        assert own.get(url).status_code == 200
    assert other.post(f"/cases/{code}/act/", {"action": "accept", "version": 3}).status_code == 404
    transition = other.post(
        f"/api/v1/cases/{code}/transitions/", {"action": "accept"}, content_type="application/json"
    )
    assert transition.status_code == 404
    assert code not in other.get("/unit/").content.decode()
    assert code in own.get("/unit/").content.decode()
    listed = other.get("/api/v1/cases/").json()["results"]
    assert [row["code"] for row in listed] == [world.case_y.code]
    world.case_x.refresh_from_db()
    assert world.case_x.status == "dispatched"


def test_an_inspector_sees_the_cases_of_their_grids_only(world: World) -> None:
    mine = Client()
    mine.force_login(world.users["inspector"])
    assert mine.get(f"/cases/{world.case_x.code}/").status_code == 200
    assert mine.get(f"/cases/{world.case_y.code}/").status_code == 404
    assert mine.get("/command/").status_code == 403
    assert mine.get("/unit/").status_code == 403


def test_the_table_says_what_issue_8_says() -> None:
    read, write = policy.READ, policy.WRITE
    assert read[Area.INSPECTOR] == {Post.INSPECTOR}
    assert read[Area.UNIT] == {Post.HANDLER}
    assert Post.DISPATCHER in read[Area.COMMAND] and Post.HANDLER not in read[Area.COMMAND]
    assert Post.ASSESSOR in write[Area.ASSESSMENT] and Post.LEADER not in write[Area.ASSESSMENT]
    assert read[Area.ADMIN] == write[Area.ADMIN] == {Post.ADMINISTRATOR}
    for area in Area:
        assert Post.LEADER in read[area] or area in (Area.INSPECTOR, Area.UNIT, Area.ADMIN), area
        if area is not Area.SESSION and area is not Area.ADMIN_LOGIN and area is not Area.API:
            assert Post.LEADER not in write[area], area
    assert policy.CONTACT_REVEALERS == {Post.OPERATOR, Post.SHIFT_LEADER, Post.DISPATCHER}
