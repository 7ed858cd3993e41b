"""A small real district for the API tests: a generated four-level grid over a 1 km × 0.8 km
box near 红山区, public and internal categories, a service attribute, keys per scope."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import shapely
from django.contrib.auth.models import User
from shapely.geometry.base import BaseGeometry

from chengguan.api.models import ApiKey, Scope, ServiceAttribute
from chengguan.catalog.models import Category, TimeLimit
from chengguan.grid.generator import GeneratedGrid, GeneratorParams, TerritoryInput, generate_grid
from chengguan.grid.geometry import metres_per_degree
from chengguan.grid.services import save_generated
from chengguan.grid.validation import validate
from chengguan.org.models import OrgUnit, Staff
from chengguan.routing.models import RoutingRule

LON0, LAT0 = 118.96, 42.27
SCHEMAS = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "open311_schemas"


def metres_box(x0: float, y0: float, x1: float, y1: float) -> BaseGeometry:
    mlon, mlat = metres_per_degree(LAT0)
    return shapely.box(LON0 + x0 / mlon, LAT0 + y0 / mlat, LON0 + x1 / mlon, LAT0 + y1 / mlat)


DISTRICT = metres_box(0, 0, 1000, 800)
INSIDE = (DISTRICT.centroid.y, DISTRICT.centroid.x)  # (lat, lon)
OUTSIDE = (LAT0 + 0.2, LON0 + 0.2)  # some 25 km away


@functools.cache
def small_grid() -> GeneratedGrid:
    return generate_grid(
        DISTRICT,
        [TerritoryInput("t", "001", "东岭街道")],
        county_code="150402",
        params=GeneratorParams(unit_size_m=100),
    )


@dataclass
class District:
    town: OrgUnit
    sanitation: OrgUnit
    garbage: Category  # public matter with a required attribute
    manhole: Category  # public component with a registration criterion
    internal: Category  # not offered to the public
    users: dict[str, User]
    staff: dict[str, Staff]


def build_district() -> District:
    town = OrgUnit.objects.create(code="150402001", name="东岭街道", kind="subdistrict")
    bureau = OrgUnit.objects.create(code="BUR", name="示例区综合执法局", kind="bureau")
    sanitation = OrgUnit.objects.create(code="D01", name="区环境卫生服务中心", kind="department")
    grid = small_grid()
    report = validate(grid.validation_inputs(), boundary=DISTRICT)
    outcome = save_generated(grid, report, name="测试网格", territory_ids={"t": town.pk})
    assert outcome.activated, report.summary()
    garbage = Category.objects.create(
        kind="matter", code="06010", major_code="06", major_name="市容环境", name="暴露垃圾"
    )
    manhole = Category.objects.create(
        kind="component",
        code="01001",
        major_code="01",
        major_name="市政公用设施",
        name="供水井盖",
        registration_criteria="井盖破损、缺失、移位",
    )
    internal = Category.objects.create(
        kind="matter", code="10001", major_code="10", major_name="其他事项", name="内部事项", public=False
    )
    for category in (garbage, manhole, internal):
        for step, hours in (("verify", 2), ("register", 1), ("dispatch", 1), ("handle", 8), ("check", 2)):
            TimeLimit.objects.create(category=category, step=step, hours=Decimal(hours))
        RoutingRule.objects.create(category=category, lead_unit=sanitation, note="环卫统一保洁")
    ServiceAttribute.objects.create(
        category=garbage,
        code="size",
        description="垃圾堆放的规模",
        datatype="singlevaluelist",
        required=True,
        order=1,
        values=[{"key": "small", "name": "零星"}, {"key": "large", "name": "成堆（1 m³ 以上）"}],
    )
    ServiceAttribute.objects.create(
        category=garbage, code="weight", description="估计重量（千克）", datatype="number", order=2
    )
    posts = {
        "operator": ("operator", bureau),
        "shift_leader": ("shift_leader", bureau),
        "dispatcher": ("dispatcher", bureau),
        "handler": ("handler", sanitation),
    }
    users, staff = {}, {}
    for n, (key, (role, unit)) in enumerate(posts.items(), start=1):
        users[key] = User.objects.create_user(f"api-{key}")  # no password: no slow hashing
        staff[key] = Staff.objects.create(
            code=f"A{n:03d}", name=f"人员{n}", role=role, unit=unit, user=users[key]
        )
    return District(town, sanitation, garbage, manhole, internal, users, staff)


@pytest.fixture
def district(db: Any) -> District:
    return build_district()


@pytest.fixture
def live_district(transactional_db: Any) -> District:
    return build_district()


def issue(scopes: list[str], *, user: User | None = None, name: str = "测试接入方") -> str:
    return ApiKey.issue(name, scopes, user=user)[1]


@pytest.fixture
def open311_key(db: Any) -> str:
    return issue([Scope.OPEN311_WRITE], name="市民 App")


ALL_SCOPES = [s.value for s in Scope]


def schema_registry() -> Any:
    """The Open311 JSON Schemas (shared/data), with their relative $refs resolvable."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    if not SCHEMAS.exists():
        pytest.skip(f"Open311 JSON Schemas absent: {SCHEMAS} (expected beside the repository)")
    resources = []
    for path in SCHEMAS.glob("*.json"):
        if path.name == "swagger.json":
            continue
        resources.append((path.name, Resource.from_contents(json.loads(path.read_text()), DRAFT7)))
    return Registry().with_resources(resources)


def check_schema(name: str, document: Any) -> None:
    import jsonschema

    registry = schema_registry()
    schema = registry.contents(name)
    validator = jsonschema.Draft7Validator(
        schema, registry=registry, format_checker=jsonschema.FormatChecker()
    )
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


@pytest.fixture(autouse=True)
def fresh_process_caches() -> None:
    """Keys and the Open311 catalogue are remembered per process for a few seconds; a rolled
    back test must not leave its rows there for the next one."""
    from chengguan.api.auth import forget_keys
    from chengguan.api.queries import forget_catalogue
    from chengguan.api.webhooks import forget_subscriptions

    forget_keys()
    forget_catalogue()
    forget_subscriptions()
