"""A small district for the page tests: categories in two major classes, units, one login per post."""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from chengguan.cases import services
from chengguan.cases.models import Case
from chengguan.catalog.models import Category, TimeLimit
from chengguan.org.models import OrgUnit, Staff
from chengguan.routing.models import RoutingRule

PASSWORD = "page-test-pass-1"


def png_bytes(colour: tuple[int, int, int] = (200, 40, 40), size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="PNG")
    return buffer.getvalue()


def photo(name: str = "现场.png", colour: tuple[int, int, int] = (200, 40, 40)) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(colour), content_type="image/png")


@dataclass
class Site:
    garbage: Category
    posters: Category
    manhole: Category
    building: Category  # not open to the public
    bureau: OrgUnit
    sanitation: OrgUnit
    municipal: OrgUnit
    town: OrgUnit
    brigade: OrgUnit
    users: dict[str, User]
    staff: dict[str, Staff]

    def client(self, who: str) -> Client:
        client = Client()
        client.force_login(self.users[who])
        return client

    def report(self, **kw: Any) -> Case:
        data: dict[str, Any] = dict(
            category=self.garbage,
            description="主干道旁成堆垃圾",
            channel="patrol",
            lat=42.27,
            lon=118.96,
            address="东岭街道光明路 12 号",
            reporter_staff=self.staff["inspector"],
            reporter_user=self.users["inspector"],
            territory=self.town,
        )
        data.update(kw)
        return services.report(services.ReportInput(**data))

    def act(self, case: Case, action: str, who: str | None, **kw: Any) -> Case:
        change = services.TransitionInput(action=action, **kw)
        return services.transition(case.pk, change, self.users[who] if who else None)

    def to(self, status: str, **kw: Any) -> Case:
        """A case walked along the main line to ``status``."""
        case = self.report(**kw)
        steps = [
            ("register", "shift_leader", {}),
            ("dispatch", "dispatcher", {}),
            ("accept", "handler", {}),
            ("report_back", "handler", {}),
            ("send_check", "operator", {"inspector": self.staff["inspector"]}),
            ("check_pass", "inspector", {}),
            ("close", "shift_leader", {}),
        ]
        for action, who, extra in steps:
            if case.status == status:
                break
            case = self.act(case, action, who, **extra)
        assert case.status == status
        return case


@pytest.fixture(autouse=True)
def fast_and_private(settings: Any, tmp_path: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.CHENGGUAN_MAP_TILES = ""  # tests run offline: no base map tiles


def build_site() -> Site:
    def category(kind: str, code: str, major: str, name: str, public: bool = True) -> Category:
        return Category.objects.create(
            kind=kind, code=code, major_code=code[:2], major_name=major, name=name, public=public
        )

    garbage = category("matter", "06010", "市容环境", "暴露垃圾")
    posters = category("matter", "06020", "市容环境", "乱张贴")
    manhole = category("component", "01001", "公用设施", "井盖")
    building = category("matter", "07001", "违法建设", "违法建筑", public=False)
    for step, hours in (("verify", 2), ("register", 1), ("dispatch", 1), ("handle", 4), ("check", 2)):
        TimeLimit.objects.create(category=garbage, step=step, hours=Decimal(hours))
    bureau = OrgUnit.objects.create(code="BUR", name="示例区综合执法局", kind="bureau")
    sanitation = OrgUnit.objects.create(code="D01", name="区环境卫生服务中心", kind="department")
    municipal = OrgUnit.objects.create(code="D02", name="区市政设施管理中心", kind="department")
    town = OrgUnit.objects.create(code="T01", name="东岭街道", kind="subdistrict")
    brigade = OrgUnit.objects.create(
        code="B01", name="东岭中队", kind="brigade", parent=bureau, territory=town
    )
    RoutingRule.objects.create(category=garbage, lead_unit=sanitation, note="环卫统一保洁")
    for cat in (posters, manhole, building):
        RoutingRule.objects.create(category=cat, lead_unit=municipal, note="市政")
    posts = {
        "inspector": ("inspector", brigade, "巡查员甲"),
        "inspector2": ("assistant", brigade, "协管员乙"),
        "operator": ("operator", bureau, "受理员丙"),
        "shift_leader": ("shift_leader", bureau, "值班长丁"),
        "dispatcher": ("dispatcher", bureau, "派遣员戊"),
        "handler": ("handler", sanitation, "环卫己"),
        "other_handler": ("handler", municipal, "市政庚"),
        "leader": ("leader", bureau, "领导辛"),
        "assessor": ("assessor", bureau, "考评员壬"),
    }
    users, staff = {}, {}
    for n, (key, (role, unit, name)) in enumerate(posts.items(), start=1):
        users[key] = User.objects.create_user(key, password=PASSWORD, first_name=name)
        staff[key] = Staff.objects.create(code=f"S{n:03d}", name=name, role=role, unit=unit, user=users[key])
    return Site(
        garbage, posters, manhole, building, bureau, sanitation, municipal, town, brigade, users, staff
    )


@pytest.fixture
def site(db: None) -> Site:
    return build_site()
