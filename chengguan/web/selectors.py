"""Reads behind the public pages."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from chengguan.catalog.models import Category, CategoryKind
from chengguan.org.models import OrgUnit, Staff, StaffRole, UnitKind
from chengguan.routing.models import RoutingRule


@dataclass(frozen=True)
class Overview:
    units: int
    committee_members: int
    territories: int
    brigades: int
    grid_departments: int
    staff: int
    assistants: int
    bicycle_assistants: int
    components: int
    matters: int
    routing_rules: int


def district_overview() -> Overview:
    units = OrgUnit.objects.aggregate(
        total=Count("id"),
        committee=Count("id", filter=Q(committee_member=True)),
        territories=Count("id", filter=Q(kind__in=[UnitKind.TOWN, UnitKind.SUBDISTRICT])),
        brigades=Count("id", filter=Q(kind=UnitKind.BRIGADE)),
        grid=Count("id", filter=Q(in_grid=True)),
    )
    staff = Staff.objects.aggregate(
        total=Count("id"),
        assistants=Count("id", filter=Q(role=StaffRole.ASSISTANT)),
        bicycle=Count("id", filter=Q(role=StaffRole.BICYCLE_ASSISTANT)),
    )
    categories = Category.objects.aggregate(
        components=Count("id", filter=Q(kind=CategoryKind.COMPONENT)),
        matters=Count("id", filter=Q(kind=CategoryKind.MATTER)),
    )
    return Overview(
        units=units["total"],
        committee_members=units["committee"],
        territories=units["territories"],
        brigades=units["brigades"],
        grid_departments=units["grid"],
        staff=staff["total"],
        assistants=staff["assistants"],
        bicycle_assistants=staff["bicycle"],
        components=categories["components"],
        matters=categories["matters"],
        routing_rules=RoutingRule.objects.count(),
    )
