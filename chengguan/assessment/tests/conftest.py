"""A small district for assessment tests: two towns, two departments, a standard with known points.

Cases and events are written straight to the tables with known dates, so every expected
figure in the tests can be worked out by hand.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User

from chengguan.assessment import services
from chengguan.assessment.models import Inspection, Standard, StandardItem
from chengguan.cases.models import Case, CaseEvent
from chengguan.catalog.models import Category
from chengguan.org.models import OrgUnit, Staff

SH = ZoneInfo("Asia/Shanghai")
_codes = itertools.count(1)

ITEMS = """编号,层级,条目,分值,计分方式,计量单位,单项封顶,适用对象,监管部门编码
Z1,零容忍,新增违法建设,-5,按次,处,,双轨,D2
S1,严管理,乱贴乱画,-1,按次,处,2,双轨,
B1,常规,受到市级表彰,3,按次,次,,双轨,
"""
WEIGHTS = """考评对象,指标,权重,目标值,加减分系数,最少样本
部门,on_time_rate,1,0.9,20,0
镇街,closure_rate,1,0.9,10,0
派遣员,dispatch_on_time_rate,1,0.9,10,0
"""
RULES = """编号,名称,触发条件,问题层级,连续末位起,连续末位止,追责措施,跟进机构
AR-01,零容忍通报批评,出现该层级问题,零容忍,,,通报批评,考评小组
AR-02,连续两期末位约谈,连续排名末位,,2,2,领导约谈,纪检监察
AR-03,连续三期末位培训,连续排名末位,,3,3,离岗培训,组织部门
AR-04,连续四期以上末位调整,连续排名末位,,4,,组织调整,组织部门
AR-05,零容忍一票双查,一票双查,零容忍,,,一票双查,纪检监察
"""


def at(day: str, clock: str = "10:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=SH)


@dataclass
class World:
    standard: Standard
    category: Category
    bureau: OrgUnit
    t1: OrgUnit
    t2: OrgUnit
    d1: OrgUnit
    d2: OrgUnit
    items: dict[str, StandardItem]
    staff: dict[str, Staff]
    users: dict[str, User]

    def case(
        self,
        reported: dt.datetime,
        *,
        territory: OrgUnit | None = None,
        lead: OrgUnit | None = None,
        registered: bool = True,
        handled: dt.datetime | None = None,
        on_time: bool | None = None,
        closed: dt.datetime | None = None,
        channel: str = "patrol",
        reporter: Staff | None = None,
        grid: str = "",
        status: str = "handling",
        **extra: object,
    ) -> Case:
        return Case.objects.create(
            code=f"T{next(_codes):09d}",
            channel=channel,
            category=self.category,
            description="测试案件",
            territory=territory or self.t1,
            lead_unit=lead,
            unit_grid=grid,
            reporter_staff=reporter,
            status=status if not closed else "closed",
            reported_at=reported,
            registered_at=reported + dt.timedelta(minutes=30) if registered else None,
            dispatched_at=reported + dt.timedelta(hours=1) if lead else None,
            handled_at=handled,
            handled_on_time=on_time,
            closed_at=closed,
            **extra,
        )

    def event(
        self,
        case: Case,
        action: str,
        when: dt.datetime,
        who: str,
        *,
        deadline: dt.datetime | None = None,
        data: dict | None = None,
    ) -> CaseEvent:
        seq = CaseEvent.objects.filter(case=case).count() + 1
        return CaseEvent.objects.create(
            case=case,
            seq=seq,
            action=action,
            label=action,
            actor=self.users[who],
            actor_name=who,
            to_status="x",
            at=when,
            deadline_before=deadline,
            data=data or {},
        )

    def inspection(
        self, mode: str = "daily", unit: OrgUnit | None = None, day: str = "2026-03-10"
    ) -> Inspection:
        return services.record_inspection(
            services.InspectionInput(
                mode=mode,
                title="三月检查",
                inspecting_unit=self.bureau,
                inspected_unit=unit or self.t1,
                date=dt.date.fromisoformat(day),
            )
        )

    def finding(self, code: str, unit: OrgUnit, when: dt.datetime, quantity: str = "1", **kw: object):
        inspection = kw.pop("inspection", None) or self.inspection(unit=unit, day=when.date().isoformat())
        return services.record_finding(
            inspection,  # type: ignore[arg-type]
            services.FindingInput(
                item=self.items[code], found_at=when, unit=unit, quantity=Decimal(quantity), **kw
            ),  # type: ignore[arg-type]
        )


@pytest.fixture
def world(db: None) -> World:
    category = Category.objects.create(
        kind="matter", code="06010", major_code="06", major_name="市容环境", name="暴露垃圾"
    )
    bureau = OrgUnit.objects.create(code="BUR", name="综合执法局", kind="bureau")
    t1 = OrgUnit.objects.create(code="T1", name="东岭街道", kind="subdistrict")
    t2 = OrgUnit.objects.create(code="T2", name="西苑街道", kind="subdistrict")
    d1 = OrgUnit.objects.create(code="D1", name="环卫中心", kind="department")
    d2 = OrgUnit.objects.create(code="D2", name="住建局", kind="department")
    standard = Standard.objects.create(code="t", name="测试标准", status="active")
    for loader, text in (
        (services.import_items, ITEMS),
        (services.import_weights, WEIGHTS),
        (services.import_rules, RULES),
    ):
        report = loader(standard, text.encode(), filename="x.csv")
        assert report.ok, report.errors
    users: dict[str, User] = {}
    staff: dict[str, Staff] = {}
    for n, (key, role, unit) in enumerate(
        [
            ("inspector", "inspector", t1),
            ("dispatcher", "dispatcher", bureau),
            ("dispatcher2", "dispatcher", bureau),
            ("shift_leader", "shift_leader", bureau),
            ("assessor", "assessor", bureau),
        ],
        start=1,
    ):
        users[key] = User.objects.create_user(key, password="x-secret-pass-1")
        staff[key] = Staff.objects.create(
            code=f"S{n:03d}", name=f"人员{n}", role=role, unit=unit, user=users[key]
        )
    items = {i.code: i for i in standard.items.all()}
    return World(standard, category, bureau, t1, t2, d1, d2, items, staff, users)
