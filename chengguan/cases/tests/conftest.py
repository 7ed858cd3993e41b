"""A small district for case tests: one category with known limits, units and one login per post."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

from chengguan.cases import services
from chengguan.cases.models import Case
from chengguan.catalog.models import Category, TimeLimit
from chengguan.org.models import OrgUnit, Staff
from chengguan.routing.models import RoutingRule

SH = ZoneInfo("Asia/Shanghai")


def at(day: str, clock: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SH)


@dataclass
class World:
    category: Category
    bureau: OrgUnit
    sanitation: OrgUnit
    municipal: OrgUnit
    town: OrgUnit
    users: dict[str, User]
    staff: dict[str, Staff]

    def act(self, case: Case, action: str, who: str | None, when: dt.datetime, **kw) -> Case:
        change = services.TransitionInput(action=action, at=when, **kw)
        return services.transition(case.pk, change, self.users[who] if who else None)

    def report(self, when: dt.datetime, photos=(), **kw) -> Case:
        data = dict(
            category=self.category,
            description="主干道旁成堆垃圾",
            channel="patrol",
            lat=None,
            lon=None,
            address="东岭街道光明路 12 号",
            reporter_staff=self.staff["inspector"],
            reporter_user=self.users["inspector"],
            territory=self.town,
            at=when,
        )
        data.update(kw)
        return services.report(services.ReportInput(**data), photos=photos)


@pytest.fixture
def world(db) -> World:
    category = Category.objects.create(
        kind="matter", code="06010", major_code="06", major_name="市容环境", name="暴露垃圾"
    )
    for step, hours in (("verify", 2), ("register", 1), ("dispatch", 1), ("handle", 4), ("check", 2)):
        TimeLimit.objects.create(category=category, step=step, hours=Decimal(hours))
    bureau = OrgUnit.objects.create(code="BUR", name="示例区综合执法局", kind="bureau")
    sanitation = OrgUnit.objects.create(code="D01", name="区环境卫生服务中心", kind="department")
    municipal = OrgUnit.objects.create(code="D02", name="区市政设施管理中心", kind="department")
    town = OrgUnit.objects.create(code="T01", name="东岭街道", kind="subdistrict")
    RoutingRule.objects.create(category=category, lead_unit=sanitation, note="环卫统一保洁")
    posts = {
        "inspector": ("inspector", town),
        "inspector2": ("inspector", town),
        "operator": ("operator", bureau),
        "shift_leader": ("shift_leader", bureau),
        "dispatcher": ("dispatcher", bureau),
        "handler": ("handler", sanitation),
        "other_handler": ("handler", municipal),
        "leader": ("leader", bureau),
    }
    users, staff = {}, {}
    for n, (key, (role, unit)) in enumerate(posts.items(), start=1):
        users[key] = User.objects.create_user(key, password="x-secret-pass-1")
        staff[key] = Staff.objects.create(
            code=f"S{n:03d}", name=f"人员{n}", role=role, unit=unit, user=users[key]
        )
    return World(category, bureau, sanitation, municipal, town, users, staff)
